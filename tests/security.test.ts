// The security suite: two requesters and two Islands try every route on each other's jobs,
// images, history, keys and leases; a hostile Island lies about jobs and PNGs; unverified
// users, revoked keys and expired sessions are refused. Every refusal moves nothing: the
// ledger gains no transaction and every balance stays put. (HTML in prompts and names is
// checked in the browser by tests/e2e/xss.spec.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../harness/client';
import { drivers } from './helpers/db';
import { startServer, type TestServer } from '../harness/server';
import { snapshotBuild } from '../harness/build-snapshot';
import { balance, BROKER_ENV, demoParams, ledgerAdmin, requester, setKyc } from '../harness/broker';
import { craftedPng } from './helpers/crafted-png';
import { makePng, TestIsland, type ClaimBody } from '../harness/test-island';

describe.each(drivers)('security on %s', (driver) => {
	let server: TestServer;
	let build: ReturnType<typeof snapshotBuild>;
	let admin: ApiClient;
	let alice: ApiClient, bob: ApiClient;
	let aliceKey: { id: string; secret: string }, bobKey: { id: string; secret: string };
	let islandA: TestIsland, islandB: TestIsland;
	let ownerA: ApiClient, ownerB: ApiClient;
	/** Alice's finished job (with an image) and the lease it was finished with. */
	let doneJob: ClaimBody;
	let imageUrl: string;
	/** Alice's job that Island A holds now. */
	let held: ClaimBody;

	async function ledger() {
		const check = (await admin.json('GET', '/api/admin/ledger/check')).body;
		expect(check.problems).toEqual([]);
		const balances = await Promise.all([alice, bob, ownerA, ownerB].map(balance));
		return { totals: check.totals, balances };
	}

	/** Runs `attempt` and checks that nothing moved in the ledger. */
	async function movesNothing(attempt: () => Promise<void>) {
		const before = await ledger();
		await attempt();
		expect(await ledger()).toEqual(before);
	}

	beforeAll(async () => {
		build = snapshotBuild();
		server = await startServer(driver, { env: { ...BROKER_ENV, ...build.env } });
		admin = await ledgerAdmin(server.url);
		alice = await requester(server.url, 'creator');
		bob = await requester(server.url, 'creator');
		aliceKey = await newKey(alice);
		bobKey = await newKey(bob);
		ownerA = new ApiClient(server.url);
		await ownerA.signUp();
		await setKyc(ownerA, 'verified');
		ownerB = new ApiClient(server.url);
		await ownerB.signUp();
		await setKyc(ownerB, 'verified');
		islandA = await TestIsland.register(ownerA);
		islandB = await TestIsland.register(ownerB);
		expect((await alice.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: 'alice one' }) } })).status).toBe(201);
		doneJob = (await islandA.runOne())!;
		imageUrl = (await alice.json('GET', `/api/jobs/${doneJob.job.id}`)).body.job.imageUrl;
		expect(imageUrl).toMatch(/^\/api\/images\/.+\.png$/);
		expect((await alice.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: 'alice two' }) } })).status).toBe(201);
		held = (await islandA.claim())!;
	});

	afterAll(async () => {
		expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
		await server?.dispose();
		build?.remove();
	});

	async function newKey(client: ApiClient) {
		const r = await client.json('POST', '/api/keys', { json: { name: 'mine' } });
		expect(r.status).toBe(201);
		return { id: r.body.key.id as string, secret: r.body.secret as string };
	}

	/** Bob by cookie, and Bob by API key. */
	function bobs() {
		const byKey = new ApiClient(server.url);
		byKey.bearer = bobKey.secret;
		return [bob, byKey];
	}

	it('keeps Bob out of Alice\'s jobs, events, share links, images and cancel (404, like a missing job)', async () => {
		await movesNothing(async () => {
			for (const b of bobs()) {
				for (const id of [doneJob.job.id, held.job.id]) {
					expect((await b.json('GET', `/api/jobs/${id}`)).status).toBe(404);
					expect((await b.json('DELETE', `/api/jobs/${id}`)).status).toBe(404);
					expect((await b.request('GET', `/api/jobs/${id}/events`)).status).toBe(404);
					expect((await b.json('POST', `/api/jobs/${id}/share`)).status).toBe(404);
				}
				expect((await b.request('GET', imageUrl)).status).toBe(404);
				// Forged or stale share signatures don't open it either.
				expect((await b.request('GET', `${imageUrl}?sig=${'0'.repeat(64)}&exp=9999999999`)).status).toBe(404);
				expect((await new ApiClient(server.url).request('GET', `${imageUrl}?sig=x&exp=1`)).status).toBe(404);
			}
		});
		// Alice's job is untouched and still hers.
		expect((await alice.json('GET', `/api/jobs/${held.job.id}`)).body.job.status).toBe('running');
		expect((await alice.request('GET', imageUrl)).status).toBe(200);
	});

	it('shows nobody else\'s history, keys or Islands, and refuses to revoke another user\'s key', async () => {
		for (const b of bobs()) {
			const history = (await b.json('GET', '/api/jobs?limit=100')).body.jobs as { id: string }[];
			expect(history.map((j) => j.id)).not.toContain(doneJob.job.id);
			expect(history.map((j) => j.id)).not.toContain(held.job.id);
			const keys = (await bob.json('GET', '/api/keys')).body.keys as { id: string }[];
			expect(keys.map((k) => k.id)).not.toContain(aliceKey.id);
			// Bob's session is told no such key; Bob's API key may not manage keys at all.
			expect((await b.json('DELETE', `/api/keys/${aliceKey.id}`)).status).toBe(b.bearer ? 403 : 404);
		}
		const aliceByKey = new ApiClient(server.url);
		aliceByKey.bearer = aliceKey.secret;
		expect((await aliceByKey.json('GET', '/api/me')).status).toBe(200);
		// An API key can't mint keys, and Islands are listed to their owner only.
		expect((await aliceByKey.json('POST', '/api/keys', { json: { name: 'more' } })).status).toBe(403);
		const ownIslands = (await ownerB.json('GET', '/api/islands')).body.islands as { id: string }[];
		expect(ownIslands.map((i) => i.id)).toEqual([islandB.id]);
		// Island tokens are not user credentials, and user credentials are not Island tokens.
		expect((await new ApiClient(server.url).json('GET', '/api/me', { headers: { authorization: `Bearer ${islandA.token}` } })).status).toBe(401);
		expect((await islandA.call('POST', '/api/islands/heartbeat', { backend: 'node', models: ['demo'] }, { headers: { authorization: `Bearer ${aliceKey.secret}` } })).status).toBe(401);
	});

	it('refuses Island B every call on the job Island A holds, with or without A\'s lease', async () => {
		await movesNothing(async () => {
			for (const lease of [held.lease.token, 'lease_1_' + 'A'.repeat(32), 'nonsense']) {
				expect((await islandB.progress(held.job.id, lease, 1, 4)).status).toBe(403);
				expect((await islandB.result(held.job.id, lease, makePng(held.job.params.width, held.job.params.height))).status).toBe(403);
				expect((await islandB.fail(held.job.id, lease, 'mine now')).status).toBe(403);
			}
			// No token, or a user's session, gets nowhere near a job.
			const anon = await fetch(`${server.url}/api/islands/jobs/${held.job.id}/progress`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lease: held.lease.token, step: 1, total: 4 }) });
			expect(anon.status).toBe(401);
			expect((await alice.json('POST', `/api/islands/jobs/${held.job.id}/fail`, { json: { lease: held.lease.token, reason: 'x' } })).status).toBe(401);
		});
		expect((await alice.json('GET', `/api/jobs/${held.job.id}`)).body.job).toMatchObject({ status: 'running', attempts: 1 });
		// Island A still holds it: its lease works.
		expect((await islandA.progress(held.job.id, held.lease.token, 1, held.job.params.steps)).status).toBe(200);
	});

	it('refuses results for jobs an Island never held (queued, someone else\'s, missing)', async () => {
		const queued = (await bob.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: 'bob queued' }) } })).body.job;
		await movesNothing(async () => {
			for (const id of [queued.id, doneJob.job.id, '00000000-0000-0000-0000-000000000000']) {
				const r = await islandB.result(id, 'lease_1_' + 'B'.repeat(32), makePng(256, 256));
				expect([403, 404, 409]).toContain(r.status);
			}
		});
		expect((await bob.json('GET', `/api/jobs/${queued.id}`)).body.job.status).toBe('queued');
		expect((await bob.json('DELETE', `/api/jobs/${queued.id}`)).status).toBe(200);
	});

	it('answers 409 to a replayed finished lease: no second settlement', async () => {
		const png = makePng(doneJob.job.params.width, doneJob.job.params.height);
		await movesNothing(async () => {
			expect((await islandA.result(doneJob.job.id, doneJob.lease.token, png)).status).toBe(409);
			expect((await islandA.progress(doneJob.job.id, doneJob.lease.token, 1, 4)).status).toBe(409);
			expect((await islandA.fail(doneJob.job.id, doneJob.lease.token, 'again')).status).toBe(409);
		});
		expect((await alice.json('GET', `/api/jobs/${doneJob.job.id}`)).body.job.status).toBe('completed');
	});

	it('refuses a wrong-size PNG, a non-PNG and a decompression bomb from the lease holder: nothing is charged', async () => {
		const lies: [string, (w: number, h: number) => Uint8Array, string, number][] = [
			['wrong size', (w, h) => makePng(w + 64, h), 'image/png', 422],
			['not a PNG', () => new TextEncoder().encode('<html>not a png</html>'), 'image/png', 422],
			['not sent as a PNG', (w, h) => makePng(w, h), 'text/html', 415],
			['decompression bomb', (w, h) => craftedPng(w, h, 64 * 1024 * 1024), 'image/png', 422]
		];
		for (const [what, bytes, type, status] of lies) {
			const submitted = (await bob.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: `bob ${what}` }) } })).body.job;
			const claim = (await islandB.claim())!;
			expect(claim.job.id).toBe(submitted.id);
			const { width, height } = claim.job.params;
			await movesNothing(async () => {
				const r = await islandB.call('POST', `/api/islands/jobs/${claim.job.id}/result`, undefined, {
					headers: { 'content-type': type, 'x-lease': claim.lease.token },
					body: bytes(width, height).slice().buffer
				});
				expect(r.status, what).toBe(status);
			});
			const after = (await bob.json('GET', `/api/jobs/${claim.job.id}`)).body.job;
			expect(after.imageUrl, what).toBeNull();
			// A refused PNG sends the job back to the queue; an unreadable upload leaves the lease.
			expect(after.status, what).toBe(status === 422 ? 'queued' : 'running');
			expect((await bob.json('DELETE', `/api/jobs/${claim.job.id}`)).status).toBe(200);
		}
		expect(await balance(bob)).toMatchObject({ held: 0 });
	});

	it('refuses an unverified user and a revoked key, and moves nothing', async () => {
		const revoked = await newKey(alice);
		expect((await alice.json('DELETE', `/api/keys/${revoked.id}`)).status).toBe(204);
		const withRevoked = new ApiClient(server.url);
		withRevoked.bearer = revoked.secret;
		for (const status of ['pending', 'rejected', 'unverified'] as const) {
			const unverified = new ApiClient(server.url);
			await unverified.signUp();
			await unverified.buy();
			if (status !== 'unverified') await setKyc(unverified, status);
			await movesNothing(async () => {
				const r = await unverified.json('POST', '/api/jobs', { json: { params: demoParams() } });
				expect(r.status).toBe(403);
				expect(r.body.error.code).toBe('kyc_required');
			});
			expect(await balance(unverified)).toEqual({ available: 100, held: 0 });
		}
		await movesNothing(async () => {
			for (const [method, path] of [['GET', '/api/me'], ['POST', '/api/jobs'], ['GET', '/api/jobs'], ['GET', `/api/jobs/${doneJob.job.id}`], ['GET', imageUrl], ['POST', '/api/credits/purchase']]) {
				const r = await withRevoked.request(method, path, { json: method === 'POST' ? { params: demoParams(), pack: 'starter' } : undefined, headers: { 'idempotency-key': crypto.randomUUID() } });
				expect(r.status, `${method} ${path}`).toBe(401);
			}
		});
	});
});

describe.each(drivers)('expired sessions on %s', (driver) => {
	it('refuses a session cookie past its expiry, even across a restart', async () => {
		const build = snapshotBuild();
		let server = await startServer(driver, { env: { ...BROKER_ENV, ...build.env } });
		const first = server;
		try {
			const client = await requester(server.url, 'starter');
			const cookie = client.cookie;
			expect((await client.json('GET', '/api/me')).status).toBe(200);
			// Age every session past its expiry, in the database itself, while the server is down.
			await server.stop();
			await execSql(server.databaseEnv, `update sessions set expires_at = now() - interval '1 minute'`);
			server = await startServer(driver, { env: { ...BROKER_ENV, ...build.env }, databaseEnv: first.databaseEnv });
			const stale = new ApiClient(server.url);
			stale.cookie = cookie;
			expect((await stale.json('GET', '/api/me')).status).toBe(401);
			expect((await stale.json('POST', '/api/jobs', { json: { params: demoParams() } })).status).toBe(401);
			expect((await stale.json('POST', '/api/credits/purchase', { json: { pack: 'starter' }, headers: { 'idempotency-key': crypto.randomUUID() } })).status).toBe(401);
		} finally {
			await server.stop();
			await first.dispose();
			build.remove();
		}
	});
});

async function execSql(databaseEnv: Record<string, string>, query: string) {
	if (databaseEnv.DATABASE_URL) {
		const { default: pg } = await import('pg');
		const client = new pg.Client({ connectionString: databaseEnv.DATABASE_URL });
		await client.connect();
		await client.query(query).finally(() => client.end());
		return;
	}
	const { PGlite } = await import('@electric-sql/pglite');
	const db = await PGlite.create(databaseEnv.DATA_DIR);
	await db.query(query).finally(() => db.close());
}
