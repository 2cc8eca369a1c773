// Batches (1–4 images a request, seeds s, s+1, …, each its own job and hold) and the queue of
// one's own (at most MAX_ACTIVE_JOBS_PER_USER images in flight, default 4), against the real
// server: a failed image refunded alone, a batch that can't be paid in full refused whole, the
// limit held under concurrent submits, every refusal a 4xx that moves no credits.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { balance, BROKER_ENV, demoManifest, demoParams, ledgerAdmin, requester } from '../../harness/broker';
import { TestIsland } from '../../harness/test-island';
import { SseReader } from '../helpers/sse';

describe.each(drivers)('batches and the queue limit on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	beforeAll(async () => {
		// The default limit (4): nothing in the env raises it.
		server = await startServer(driver, { env: { ...BROKER_ENV } });
		admin = await ledgerAdmin(server.url);
	});
	afterAll(async () => {
		expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
		await server.dispose();
	});

	/** An Island of a new, verified owner (a job goes back to no owner whose Island gave up on it). */
	const islandOfNewOwner = async () => TestIsland.register(await requester(server.url, null));

	const submit = (client: ApiClient, body: unknown, headers: Record<string, string> = {}) => client.json('POST', '/api/jobs', { json: body, headers });
	const active = async (client: ApiClient) => (await client.json('GET', '/api/jobs?active=true')).body.jobs as { id: string; status: string }[];

	it('makes a job and a hold per image with seeds s, s+1, …, and refunds a failed image alone', async () => {
		const client = await requester(server.url);
		const quote = await client.json('POST', '/api/jobs/quote', { json: { params: demoParams(), count: 4 } });
		expect(quote.body).toEqual({ cost: 10, tier: 'standard', count: 4, total: 40 });

		// The seeds wrap past the largest uint32.
		const r = await submit(client, { params: demoParams({ seed: 4294967294 }), count: 4 });
		expect(r.status).toBe(201);
		const { job, jobs, batch } = r.body;
		expect(batch).toEqual({ id: jobs[0].id, count: 4, cost: 40 });
		expect(job).toEqual(jobs[0]);
		expect(r.res.headers.get('location')).toBe(`/api/jobs/${jobs[0].id}`);
		expect(jobs.map((j: { params: { seed: number } }) => j.params.seed)).toEqual([4294967294, 4294967295, 0, 1]);
		expect(jobs.map((j: { batchId: string; batchIndex: number; cost: number; status: string }) => [j.batchId, j.batchIndex, j.cost, j.status])).toEqual(
			[0, 1, 2, 3].map((i) => [batch.id, i, 10, 'queued'])
		);
		expect(await balance(client)).toEqual({ available: 60, held: 40 });
		const listed = (await client.json('GET', `/api/jobs?batch=${batch.id}`)).body.jobs;
		expect(listed.map((j: { id: string }) => j.id)).toEqual(jobs.map((j: { id: string }) => j.id));

		// Islands take the images in seed order. Three are made; the second fails on three
		// owners' Islands in turn.
		const first = await islandOfNewOwner();
		const doomed = jobs[1].id;
		for (let i = 0; i < 4; i++) {
			const claim = (await first.claim())!;
			expect(claim.job.id).toBe(jobs[i].id);
			if (claim.job.id === doomed) expect((await first.fail(claim.job.id, claim.lease.token, 'out of memory')).body.status).toBe('queued');
			else await first.complete(claim);
		}
		for (const last of [false, true]) {
			const island = await islandOfNewOwner();
			const claim = (await island.claim())!;
			expect(claim.job.id).toBe(doomed);
			expect((await island.fail(doomed, claim.lease.token, 'out of memory')).body.status).toBe(last ? 'failed' : 'queued');
		}
		const after = (await client.json('GET', `/api/jobs?batch=${batch.id}`)).body.jobs;
		expect(after.map((j: { status: string; refunded: number }) => [j.status, j.refunded])).toEqual([
			['completed', 0],
			['failed', 10],
			['completed', 0],
			['completed', 0]
		]);
		// 30 charged for the three images, the failed one's 10 back.
		expect(await balance(client)).toEqual({ available: 70, held: 0 });
	});

	it('refuses a batch that cannot be paid in full: 402, nothing held, no job', async () => {
		const client = await requester(server.url);
		const [w, h] = demoManifest.sizes.reduce((a, b) => (b[0] * b[1] > a[0] * a[1] ? b : a));
		const dear = demoParams({ width: w, height: h, steps: demoManifest.steps.high[1] });
		// The first two holds (2 × 50) fit the balance, the third doesn't: none is kept.
		const r = await submit(client, { params: dear, count: 3 });
		expect([r.status, r.body.error.code]).toEqual([402, 'insufficient_credits']);
		expect(r.body.error.message).toMatch(/^These 3 images cost 150 credits \(50 each\)/);
		expect(await balance(client)).toEqual({ available: 100, held: 0 });
		expect((await client.json('GET', '/api/jobs')).body.jobs).toEqual([]);
		expect((await submit(client, { params: dear, count: 2 })).status).toBe(201);
		expect(await balance(client)).toEqual({ available: 0, held: 100 });
		for (const job of await active(client)) await client.json('DELETE', `/api/jobs/${job.id}`);
	});

	it('refuses a count outside 1–4 with 422, holding nothing', async () => {
		const client = await requester(server.url);
		for (const count of [0, 5, 2.5, '2', null]) {
			const r = await submit(client, { params: demoParams(), count });
			expect([r.status, r.body.error.code], String(count)).toEqual([422, 'invalid_request']);
		}
		expect((await client.json('POST', '/api/jobs/quote', { json: { params: demoParams(), count: 5 } })).status).toBe(422);
		expect(await balance(client)).toEqual({ available: 100, held: 0 });
	});

	it('keeps at most 4 images in flight per user, each image of a batch counting: 429 beyond, moving nothing', async () => {
		const client = await requester(server.url);
		expect((await submit(client, { params: demoParams(), count: 3 })).status).toBe(201);
		const over = await submit(client, { params: demoParams(), count: 2 });
		expect([over.status, over.body.error.code]).toEqual([429, 'too_many_jobs']);
		expect(over.body.error.message).toBe('You have 3 images queued or running and may have 4 at once: 2 images more would make 5. Ask for fewer, or wait for one to finish.');
		expect(over.res.headers.get('retry-after')).toBe('10');
		expect(await balance(client)).toEqual({ available: 70, held: 30 });

		const fourth = (await submit(client, { params: demoParams() })).body.job;
		const full = await submit(client, { params: demoParams() });
		expect([full.status, full.body.error.message]).toEqual([429, 'You have 4 images queued or running, the most allowed at once (4). Wait for one to finish, or cancel one.']);
		expect(await balance(client)).toEqual({ available: 60, held: 40 });
		expect((await active(client)).map((j) => j.status)).toEqual(['queued', 'queued', 'queued', 'queued']);

		// Another user's queue is their own.
		const other = await requester(server.url);
		expect((await submit(other, { params: demoParams() })).status).toBe(201);
		await other.json('DELETE', `/api/jobs/${(await active(other))[0].id}`);

		// A cancelled job frees its place at once.
		await client.json('DELETE', `/api/jobs/${fourth.id}`);
		expect((await submit(client, { params: demoParams() })).status).toBe(201);
		for (const job of await active(client)) await client.json('DELETE', `/api/jobs/${job.id}`);
		expect(await balance(client)).toEqual({ available: 100, held: 0 });
	});

	it('holds the limit under concurrent submits: exactly 4 images get in, the rest are 429 and hold nothing', async () => {
		const client = await requester(server.url);
		const singles = await Promise.all(Array.from({ length: 12 }, (_, i) => submit(client, { params: demoParams({ prompt: `a red circle ${i}` }) })));
		expect(singles.map((r) => r.status).sort()).toEqual([...Array(4).fill(201), ...Array(8).fill(429)]);
		expect(singles.filter((r) => r.status === 429).every((r) => r.body.error.code === 'too_many_jobs')).toBe(true);
		expect(await balance(client)).toEqual({ available: 60, held: 40 });
		expect(await active(client)).toHaveLength(4);
		for (const job of await active(client)) await client.json('DELETE', `/api/jobs/${job.id}`);

		// Batches race the same way: two of six batches of two fit.
		const batches = await Promise.all(Array.from({ length: 6 }, () => submit(client, { params: demoParams(), count: 2 })));
		expect(batches.map((r) => r.status).sort()).toEqual([201, 201, 429, 429, 429, 429]);
		expect(await balance(client)).toEqual({ available: 60, held: 40 });
		for (const job of await active(client)) await client.json('DELETE', `/api/jobs/${job.id}`);
		expect(await balance(client)).toEqual({ available: 100, held: 0 });
	});

	it('applies a request sent again with the same Idempotency-Key once', async () => {
		const client = await requester(server.url);
		const key = randomUUID();
		const body = { params: demoParams(), count: 2 };
		const first = await submit(client, body, { 'idempotency-key': key });
		expect([first.status, first.res.headers.get('idempotent-replayed')]).toEqual([201, 'false']);
		const again = await submit(client, body, { 'idempotency-key': key });
		expect([again.status, again.res.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
		expect(again.body.batch).toEqual(first.body.batch);
		expect(await balance(client)).toEqual({ available: 80, held: 20 });
		const reused = await submit(client, { ...body, count: 1 }, { 'idempotency-key': key });
		expect([reused.status, reused.body.error.code]).toEqual([409, 'idempotency_key_reused']);
		expect((await submit(client, body, { 'idempotency-key': 'no spaces allowed' })).status).toBe(400);

		// A refusal is not remembered: the same key goes through once there is room.
		const later = randomUUID();
		expect((await submit(client, { params: demoParams(), count: 3 }, { 'idempotency-key': later })).status).toBe(429);
		for (const job of await active(client)) await client.json('DELETE', `/api/jobs/${job.id}`);
		expect((await submit(client, { params: demoParams(), count: 3 }, { 'idempotency-key': later })).status).toBe(201);
		expect(await balance(client)).toEqual({ available: 70, held: 30 });
		for (const job of await active(client)) await client.json('DELETE', `/api/jobs/${job.id}`);
	});

	it('lists newest request first, each request’s images together in seed order', async () => {
		const client = await requester(server.url);
		const a = (await submit(client, { params: demoParams({ prompt: 'a' }) })).body.jobs;
		const b = (await submit(client, { params: demoParams({ prompt: 'b' }), count: 3 })).body.jobs;
		const listed = (await client.json('GET', '/api/jobs')).body.jobs.map((j: { id: string }) => j.id);
		expect(listed).toEqual([...b, ...a].map((j: { id: string }) => j.id));
		for (const job of await active(client)) await client.json('DELETE', `/api/jobs/${job.id}`);
	});

	it('streams several jobs on one connection (the page’s batch and queue): each event names its job, and it ends with the last', async () => {
		const client = await requester(server.url);
		const [a, b] = (await submit(client, { params: demoParams(), count: 2 })).body.jobs;
		const stream = (ids: string) => client.request('GET', `/api/jobs/events?ids=${ids}`);
		const res = await stream(`${a.id},${b.id},${a.id}`);
		expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/event-stream; charset=utf-8']);
		const sse = new SseReader(res);
		const first = [(await sse.next())!, (await sse.next())!];
		expect(first.map((e) => [e.event, e.data.id, e.data.status, e.id]).sort()).toEqual([
			['status', a.id, 'queued', null],
			['status', b.id, 'queued', null]
		]);

		const island = await islandOfNewOwner();
		const claim = (await island.claim())!;
		expect(claim.job.id).toBe(a.id);
		await island.progress(a.id, claim.lease.token, 1, claim.job.params.steps);
		expect((await sse.until('progress')).at(-1)!.data).toMatchObject({ id: a.id, step: 1 });
		await island.complete(claim);
		expect((await sse.until('completed')).at(-1)!.data).toMatchObject({ id: a.id, status: 'completed' });
		await client.json('DELETE', `/api/jobs/${b.id}`);
		expect((await sse.until('failed')).at(-1)!.data).toMatchObject({ id: b.id, status: 'cancelled', refunded: 10 });
		expect(await sse.next()).toBeNull();

		// Nothing left to follow: 204, so EventSource stops reconnecting.
		expect((await stream(`${a.id},${b.id}`)).status).toBe(204);
		// Another user's job is a missing one; the list is 1–50 ids.
		const other = await requester(server.url);
		const theirs = (await submit(other, { params: demoParams() })).body.job;
		expect((await client.json('GET', `/api/jobs/events?ids=${a.id},${theirs.id}`)).status).toBe(404);
		expect((await client.json('GET', '/api/jobs/events?ids=')).status).toBe(422);
		expect((await client.json('GET', `/api/jobs/events?ids=${Array.from({ length: 51 }, (_, i) => `x${i}`).join(',')}`)).status).toBe(422);
		expect((await new ApiClient(server.url).json('GET', `/api/jobs/events?ids=${a.id}`)).status).toBe(401);
		await other.json('DELETE', `/api/jobs/${theirs.id}`);
	});
});
