// Variations (img2img) against the production server, on PGlite and PostgreSQL: the input is
// only ever one of the requester's own pictures (another user's, a missing or a withdrawn one
// is refused before any credit moves), the cost follows the steps run, the Island gets the
// input through its lease alone, and a spot check of a variation re-runs it on the same input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { balance, BROKER_ENV, decideIsland, demoParams, ledgerAdmin, requester, setKyc } from '../../harness/broker';
import { drawFor, makePng, TestIsland, type ClaimBody } from '../../harness/test-island';

const imageIdOf = (job: { imageUrl: string }) => /\/api\/images\/([^/.]+)\.png/.exec(job.imageUrl)![1];

describe.each(drivers)('variations on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	let reference: TestIsland;

	beforeAll(async () => {
		server = await startServer(driver, {
			env: {
				...BROKER_ENV,
				// Every unvouched Island's result is spot-checked; test Islands answer at once.
				TRUST_SPOT_CHECK_RATE: '1',
				TRUST_NEW_ISLAND_SPOT_CHECK_RATE: '1',
				TRUST_SPEED_BOUND_FACTOR: '1000000'
			}
		});
		admin = await ledgerAdmin(server.url);
		await setKyc(admin, 'verified');
		// The operator's vouched Island: its results are never checked, and it decides checks.
		reference = await TestIsland.register(admin);
		await decideIsland(admin, reference.id, 'vouch');
	});
	afterAll(async () => {
		expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
		await server?.dispose();
	});

	const honest = (c: ClaimBody) => drawFor(c.job.params);

	/** A finished picture of `client`'s, drawn by the vouched Island. */
	async function pictureOf(client: ApiClient, overrides: Record<string, unknown> = {}) {
		const job = (await client.json('POST', '/api/jobs', { json: { params: demoParams(overrides) } })).body.job;
		await reference.runOne({ picture: honest });
		const done = (await client.json('GET', `/api/jobs/${job.id}`)).body.job;
		expect(done.status).toBe('completed');
		return { job: done, imageId: imageIdOf(done) };
	}

	/** GET input.png as an Island does: its token, and the lease in X-Lease. */
	async function input(island: TestIsland, claim: ClaimBody, lease = claim.lease.token) {
		const res = await fetch(`${server.url}/api/islands/jobs/${claim.job.id}/input.png`, {
			headers: { authorization: `Bearer ${island.token}`, ...(lease ? { 'x-lease': lease } : {}) }
		});
		const bytes = new Uint8Array(await res.arrayBuffer());
		return { status: res.status, res, bytes, error: () => JSON.parse(Buffer.from(bytes).toString()).error };
	}

	it('varies your own picture: priced by the steps it runs, its input given only to the lease holder', async () => {
		const alice = await requester(server.url);
		const { imageId } = await pictureOf(alice);
		const before = await balance(alice);
		const plain = demoParams({ prompt: 'a red circle on a green background', steps: 8 });
		const params = { ...plain, variation: { imageId, strength: 0.5 } };
		const full = (await alice.json('POST', '/api/jobs/quote', { json: { params: plain } })).body;
		const quote = (await alice.json('POST', '/api/jobs/quote', { json: { params } })).body;
		// 8 steps at 0.5 run the last 4: half the work, half the price (rounded up).
		expect(quote).toEqual({ cost: Math.ceil(full.cost / 2), tier: full.tier, count: 1, total: Math.ceil(full.cost / 2) });

		const submitted = await alice.json('POST', '/api/jobs', { json: { params } });
		expect(submitted.status).toBe(201);
		const job = submitted.body.job;
		expect(job.params.variation).toEqual({ imageId, strength: 0.5 });
		expect(job.cost).toBe(quote.cost);
		expect(await balance(alice)).toEqual({ available: before.available - quote.cost, held: quote.cost });

		const claim = (await reference.claim())!;
		expect(claim.job.id).toBe(job.id);
		// The Island learns the strength, not which of the requester's pictures it is.
		expect((claim.job.params as Record<string, unknown>).variation).toEqual({ strength: 0.5 });

		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		const stranger = await TestIsland.register(owner);
		expect((await input(reference, claim, '')).status).toBe(400);
		expect((await input(reference, claim, `lease_1_${'x'.repeat(32)}`)).status).toBe(403);
		expect((await input(stranger, claim)).status).toBe(403);
		const got = await input(reference, claim);
		expect(got.status).toBe(200);
		expect(got.res.headers.get('content-type')).toBe('image/png');
		expect(got.res.headers.get('cache-control')).toBe('no-store');
		const original = new Uint8Array(await (await alice.request('GET', `/api/images/${imageId}.png`)).arrayBuffer());
		expect(Buffer.from(got.bytes).equals(Buffer.from(original))).toBe(true);

		await reference.complete(claim, { picture: honest });
		expect(await balance(alice)).toEqual({ available: before.available - quote.cost, held: 0 });
		// A job that is not a variation has no input.
		const plainJob = (await alice.json('POST', '/api/jobs', { json: { params: plain } })).body.job;
		const plainClaim = (await reference.claim())!;
		expect(plainClaim.job.id).toBe(plainJob.id);
		expect((await input(reference, plainClaim)).error().code).toBe('no_input');
		await reference.complete(plainClaim, { picture: honest });
	});

	it('refuses a variation\'s result from an Island that never fetched its input (an outdated one): back to the queue', async () => {
		const alice = await requester(server.url);
		const { imageId } = await pictureOf(alice);
		const job = (await alice.json('POST', '/api/jobs', { json: { params: demoParams({ variation: { imageId, strength: 0.5 } }) } })).body.job;
		const outdated = (await reference.claim())!;
		expect(outdated.job.id).toBe(job.id);
		const r = await reference.result(job.id, outdated.lease.token, honest(outdated));
		expect(r.status).toBe(422);
		expect(r.body.error.code).toBe('input_not_fetched');
		expect((await alice.json('GET', `/api/jobs/${job.id}`)).body.job.status).toBe('queued');
		// The next attempt fetches it: its result counts (an earlier lease's fetch would not).
		const next = (await reference.claim())!;
		expect(next.job.id).toBe(job.id);
		expect((await input(reference, next)).status).toBe(200);
		await reference.complete(next, { picture: honest });
		expect((await alice.json('GET', `/api/jobs/${job.id}`)).body.job.status).toBe('completed');
	});

	it('refuses another user\'s picture (404), a missing one, a bad strength or size (422): nothing moves', async () => {
		const alice = await requester(server.url);
		const { imageId: alices } = await pictureOf(alice);
		const bob = await requester(server.url);
		const { imageId: bobs } = await pictureOf(bob);
		const before = await balance(bob);
		const vary = (variation: unknown, overrides: Record<string, unknown> = {}) =>
			bob.json('POST', '/api/jobs', { json: { params: demoParams({ variation, ...overrides }) } });

		for (const imageId of [alices, 'no-such-image']) {
			const r = await vary({ imageId, strength: 0.5 });
			expect(r.status).toBe(404);
			expect(r.body.error).toMatchObject({ code: 'image_not_found', message: expect.stringMatching(/picture of yours/) });
		}
		for (const strength of [0.05, 0.95, '0.5', null, undefined]) {
			const r = await vary({ imageId: bobs, strength });
			expect(r.status).toBe(422);
			expect(r.body.error.code).toBe('invalid_params');
			expect(r.body.error.message).toMatch(/^variation\.strength: Strength is a number from 0\.1/);
			const q = await bob.json('POST', '/api/jobs/quote', { json: { params: demoParams({ variation: { imageId: bobs, strength } }) } });
			expect(q.status).toBe(422);
		}
		expect((await vary({ imageId: bobs, strength: 0.5, extra: 1 })).status).toBe(422);
		expect((await vary({ imageId: '', strength: 0.5 })).status).toBe(422);
		const [w, h] = [demoParams().width + 64, demoParams().height];
		const size = await vary({ imageId: bobs, strength: 0.5 }, { width: w, height: h });
		expect(size.status).toBe(422);
		expect(size.body.error.message).toMatch(/keeps its picture's size/);
		expect(await balance(bob)).toEqual(before);
		// Nor can anyone else fetch the picture by its id.
		expect((await bob.request('GET', `/api/images/${alices}.png`)).status).toBe(404);
	});

	it('a spot check of a variation re-runs it on the same input; a withdrawn picture is refused (410)', async () => {
		const alice = await requester(server.url);
		const { imageId } = await pictureOf(alice);
		const liarOwner = new ApiClient(server.url);
		await liarOwner.signUp();
		await setKyc(liarOwner, 'verified');
		const liar = await TestIsland.register(liarOwner);

		const params = demoParams({ prompt: 'a red circle on a green background', steps: 8, variation: { imageId, strength: 0.7 } });
		const job = (await alice.json('POST', '/api/jobs', { json: { params } })).body.job;
		const claim = (await liar.claim())!;
		expect(claim.job.id).toBe(job.id);
		const original = await input(liar, claim);
		expect(original.status).toBe(200);
		await liar.complete(claim, { picture: (c) => makePng(c.job.params.width, c.job.params.height) });
		const lied = (await alice.json('GET', `/api/jobs/${job.id}`)).body.job;
		expect(lied.verification).toBe('checking');
		const liedImage = imageIdOf(lied);

		// The check: the platform's copy of the job, claimed by the vouched Island, same input.
		const check = (await reference.claim())!;
		expect(check.job.id).not.toBe(job.id);
		expect((check.job.params as Record<string, unknown>).variation).toEqual({ strength: 0.7 });
		const again = await input(reference, check);
		expect(again.status).toBe(200);
		expect(Buffer.from(again.bytes).equals(Buffer.from(original.bytes))).toBe(true);
		await reference.complete(check, { picture: honest });

		const judged = (await alice.json('GET', `/api/jobs/${job.id}`)).body.job;
		expect(judged.verification).toBe('replaced');
		expect(imageIdOf(judged)).not.toBe(liedImage);
		const before = await balance(alice);
		const withdrawn = await alice.json('POST', '/api/jobs', { json: { params: { ...params, variation: { imageId: liedImage, strength: 0.5 } } } });
		expect(withdrawn.status).toBe(410);
		expect(withdrawn.body.error).toMatchObject({ code: 'image_withdrawn', message: expect.stringMatching(/redrawn one/) });
		expect(await balance(alice)).toEqual(before);
		// The redrawn picture can be varied.
		const redrawn = await alice.json('POST', '/api/jobs', { json: { params: { ...params, variation: { imageId: imageIdOf(judged), strength: 0.5 } } } });
		expect(redrawn.status).toBe(201);
		await alice.json('DELETE', `/api/jobs/${redrawn.body.job.id}`);
	});
});
