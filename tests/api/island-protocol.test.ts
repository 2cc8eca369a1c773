// The Island's side: auth, capability matching, leases (403/409/410), PNG checks (422 and
// back to the queue), body limits (413), failures and retries, cancel.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { balance, BROKER_ENV, demoManifest, demoParams, ledgerAdmin, requester as newRequester, setKyc } from '../../harness/broker';
import { craftedPng } from '../helpers/crafted-png';
import { makePng, TestIsland } from '../../harness/test-island';

describe.each(drivers)('Island protocol on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	let owner: ApiClient;
	beforeAll(async () => {
		server = await startServer(driver, { env: BROKER_ENV });
		admin = await ledgerAdmin(server.url);
		owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
	});
	/** Another volunteer: a job one owner's Island gave up never goes back to that owner. */
	const newOwner = async () => {
		const other = new ApiClient(server.url);
		await other.signUp();
		await setKyc(other, 'verified');
		return other;
	};
	// Every test starts with an empty queue: whatever a test left queued or running is cancelled.
	const requesters: ApiClient[] = [];
	const requester = async (url: string) => {
		const client = await newRequester(url);
		requesters.push(client);
		return client;
	};
	afterEach(async () => {
		for (const client of requesters.splice(0)) {
			for (const job of (await client.json('GET', '/api/jobs?limit=100')).body.jobs) {
				if (job.status === 'queued' || job.status === 'running') await client.json('DELETE', `/api/jobs/${job.id}`);
			}
		}
	});
	afterAll(async () => {
		expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
		await server.dispose();
	});

	const submit = async (client: ApiClient, params = demoParams()) => {
		const r = await client.json('POST', '/api/jobs', { json: { params } });
		expect(r.status).toBe(201);
		return r.body.job as { id: string; cost: number };
	};
	const jobOf = async (client: ApiClient, id: string) => (await client.json('GET', `/api/jobs/${id}`)).body.job;

	it('refuses Island routes without a valid isl_ token, and registration without a session', async () => {
		const anon = new ApiClient(server.url);
		expect((await anon.json('POST', '/api/islands', { json: { name: 'x' } })).status).toBe(401);
		const fake = new TestIsland(server.url, 'isl_not-a-real-token', 'x');
		expect((await fake.call('POST', '/api/islands/claim', {})).status).toBe(401);
		expect((await fake.call('POST', '/api/islands/heartbeat', { backend: 'node', models: ['demo'] })).status).toBe(401);
		expect((await fake.progress('nope', 'lease', 1, 2)).status).toBe(401);
		const island = await TestIsland.register(owner);
		expect((await island.call('POST', '/api/islands/heartbeat', { backend: 'cuda', models: [] })).status).toBe(422);
	});

	// The calls about a job an Island holds remember its token for seconds (requireIslandIdentity):
	// removing the Island must forget it at once, or its token would keep answering for a while.
	it('refuses a removed Island\'s token at once, though it was used a moment before', async () => {
		const client = await requester(server.url);
		const job = await submit(client);
		const island = await TestIsland.register(owner);
		const claim = (await island.claim())!;
		expect((await island.progress(job.id, claim.lease.token, 1, 4)).status).toBe(200);
		expect((await owner.json('DELETE', `/api/islands/${island.id}`)).status).toBe(204);
		expect((await island.progress(job.id, claim.lease.token, 2, 4)).status).toBe(401);
		expect((await island.result(job.id, claim.lease.token, makePng(256, 256))).status).toBe(401);
		expect((await island.fail(job.id, claim.lease.token, 'gone')).status).toBe(401);
	});

	it('hands a job only to an Island that has its model and enough pixels', async () => {
		const client = await requester(server.url);
		const [w, h] = demoManifest.sizes.reduce((a, b) => (b[0] * b[1] > a[0] * a[1] ? b : a));
		const job = await submit(client, demoParams({ width: w, height: h }));
		const small = await TestIsland.register(owner, { maxPixels: w * h - 1 });
		const other = await TestIsland.register(owner, { models: ['sd-turbo'] });
		const ac = new AbortController();
		setTimeout(() => ac.abort(), 1500);
		await expect(small.claim({ signal: ac.signal })).rejects.toThrow();
		expect((await other.call('POST', '/api/islands/claim', { models: ['sd-turbo'], maxPixels: 1 << 20 }, { signal: AbortSignal.timeout(1500) }).catch(() => null))?.status ?? 'waiting').toBe('waiting');
		const big = await TestIsland.register(owner, { maxPixels: w * h });
		expect((await big.claim())!.job.id).toBe(job.id);
	});

	it('answers 403 to a wrong lease, 409 to a late one, and extends the lease on progress', async () => {
		const client = await requester(server.url);
		const job = await submit(client);
		const island = await TestIsland.register(owner);
		const thief = await TestIsland.register(await newOwner());
		const claim = (await island.claim())!;
		const forged = claim.lease.token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
		expect((await island.progress(job.id, forged, 1, 4)).status).toBe(403);
		expect((await thief.progress(job.id, claim.lease.token, 1, 4)).status).toBe(403);
		expect((await island.progress(job.id, 'garbage', 1, 4)).status).toBe(403);
		expect((await island.result(job.id, forged, makePng(256, 256))).status).toBe(403);
		const p = await island.progress(job.id, claim.lease.token, 1, 4);
		expect(p.status).toBe(200);
		expect(new Date(p.body.leaseExpiresAt).getTime()).toBeGreaterThanOrEqual(new Date(claim.lease.expiresAt).getTime());
		// The Island gives up: the job is queued again and another Island's lease is attempt 2.
		expect((await island.fail(job.id, claim.lease.token, 'out of memory')).body).toEqual({ status: 'queued' });
		expect((await island.progress(job.id, claim.lease.token, 2, 4)).status).toBe(409);
		const second = (await thief.claim())!;
		expect(second.lease.token).toMatch(/^lease_2_/);
		expect((await island.progress(job.id, claim.lease.token, 2, 4)).status).toBe(409);
		await thief.complete(second);
		expect((await jobOf(client, job.id)).status).toBe('completed');
	});

	it('refuses a bad PNG with 422 and puts the job back in the queue, holding the credits', async () => {
		const client = await requester(server.url);
		const job = await submit(client);
		const { width, height } = demoParams();
		const cases: [string, Uint8Array][] = [
			['not a PNG', new TextEncoder().encode('GIF89a definitely not a png')],
			['wrong size', makePng(width + 64, height)],
			['60000×60000 header', craftedPng(60000, 60000, 100)],
			['truncated', makePng(width, height).slice(0, 200)]
		];
		for (const [name, png] of cases) {
			// Attempts run out after 3 owners: a fresh job each time the previous one failed.
			const island = await TestIsland.register(await newOwner());
			const claim = (await island.claim())!;
			const r = await island.result(claim.job.id, claim.lease.token, png);
			expect(r.status, name).toBe(422);
			expect(r.body.error.code).toBe('invalid_png');
			const after = await jobOf(client, claim.job.id);
			if (after.status === 'failed') {
				expect(after.refunded).toBe(after.cost);
				await submit(client);
			} else expect(after.status).toBe('queued');
		}
		expect((await jobOf(client, job.id)).status).toBe('failed');
		expect((await jobOf(client, job.id)).attempts).toBe(3);
	});

	it('refuses a decompression bomb without inflating it', async () => {
		const client = await requester(server.url);
		await submit(client);
		const island = await TestIsland.register(owner);
		const { width, height } = demoParams();
		const claim = (await island.claim())!;
		// ~130 KB on the wire, 128 MB inflated (500× what the header allows); the header matches the job.
		const bomb = craftedPng(width, height, 128 << 20);
		expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
		const r = await island.result(claim.job.id, claim.lease.token, bomb);
		expect(r.status).toBe(422);
		expect(r.body.error.message).toMatch(/inflates beyond/);
	});

	it('answers 413 to a result body over the limit', async () => {
		const client = await requester(server.url);
		await submit(client);
		const island = await TestIsland.register(owner);
		const claim = (await island.claim())!;
		const r = await island.result(claim.job.id, claim.lease.token, new Uint8Array(9 * 1024 * 1024));
		expect(r.status).toBe(413);
		expect((await jobOf(client, claim.job.id)).status).toBe('running');
	});

	it('fails a job once 3 owners’ Islands gave up on it, never handing it back to one, and refunds the hold once', async () => {
		const client = await requester(server.url);
		const job = await submit(client);
		for (let attempt = 1; attempt <= 3; attempt++) {
			const quitter = await newOwner();
			const island = await TestIsland.register(quitter);
			const claim = (await island.claim())!;
			expect(claim.job).toMatchObject({ id: job.id, attempt });
			const r = await island.fail(job.id, claim.lease.token, `crash ${attempt}`);
			expect(r.body.status).toBe(attempt < 3 ? 'queued' : 'failed');
			// Neither this Island nor another of its owner's gets it again.
			if (attempt < 3) {
				for (const again of [island, await TestIsland.register(quitter)]) {
					expect(await again.claim({ signal: AbortSignal.timeout(700) }).catch(() => null)).toBeNull();
				}
			}
		}
		const after = await jobOf(client, job.id);
		expect(after).toMatchObject({ status: 'failed', refunded: job.cost, attempts: 3 });
		expect(after).toMatchObject({ failureCode: 'island_error', failureReason: 'crash 3' });
		expect(await balance(client)).toEqual({ available: 100, held: 0 });
	});

	it('cancels a queued job and a running one (the Island then gets 410), refunding once', async () => {
		const client = await requester(server.url);
		const queued = await submit(client);
		const cancelled = await client.json('DELETE', `/api/jobs/${queued.id}`);
		expect(cancelled.body.job).toMatchObject({ status: 'cancelled', refunded: queued.cost });
		expect((await client.json('DELETE', `/api/jobs/${queued.id}`)).status).toBe(409);

		const running = await submit(client);
		const island = await TestIsland.register(owner);
		const claim = (await island.claim())!;
		expect(claim.job.id).toBe(running.id);
		expect((await client.json('DELETE', `/api/jobs/${running.id}`)).status).toBe(200);
		expect((await island.progress(running.id, claim.lease.token, 1, 4)).status).toBe(410);
		expect((await island.result(running.id, claim.lease.token, makePng(256, 256))).status).toBe(410);
		expect((await island.fail(running.id, claim.lease.token, 'x')).status).toBe(410);
		expect(await balance(client)).toEqual({ available: 100, held: 0 });

		const done = await submit(client);
		await island.runOne();
		expect((await client.json('DELETE', `/api/jobs/${done.id}`)).status).toBe(409);
	});

	it('wakes a sleeping long-poll when a job is submitted', async () => {
		const client = await requester(server.url);
		const island = await TestIsland.register(owner);
		const pending = island.claim();
		await new Promise((r) => setTimeout(r, 300));
		const job = await submit(client);
		const claimed = await pending;
		expect(claimed!.job.id).toBe(job.id);
		await island.fail(job.id, claimed!.lease.token, 'done with it');
		await client.json('DELETE', `/api/jobs/${job.id}`);
	});
});
