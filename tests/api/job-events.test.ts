// GET /api/jobs/:id/events: current state first, progress with previews, completion,
// failure with refund, resumption with Last-Event-ID.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { BROKER_ENV, demoParams, ledgerAdmin, requester, setKyc } from '../../harness/broker';
import { SseReader } from '../helpers/sse';
import { makePng, TestIsland } from '../../harness/test-island';

// A 1×1 PNG, as an Island's preview would be (only smaller).
const PREVIEW = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe.each(drivers)('job events on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	let island: TestIsland;
	beforeAll(async () => {
		server = await startServer(driver, { env: BROKER_ENV });
		admin = await ledgerAdmin(server.url);
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		island = await TestIsland.register(owner);
	});
	afterAll(async () => {
		expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
		await server.dispose();
	});

	const events = async (client: ApiClient, id: string, lastEventId?: string) => {
		const res = await client.request('GET', `/api/jobs/${id}/events`, { headers: lastEventId ? { 'last-event-id': lastEventId } : {} });
		return res;
	};

	it('streams queued (position, Islands online) → running with progress and preview → completed', async () => {
		const client = await requester(server.url, 'creator');
		const first = (await client.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		const second = (await client.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		const res = await events(client, second.id);
		expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
		const sse = new SseReader(res);
		const hello = (await sse.next())!;
		expect(hello.event).toBe('status');
		expect(hello.data).toMatchObject({ status: 'queued', position: 2, islandsOnline: 1 });
		expect(Number(hello.id)).toBeGreaterThan(0);

		await island.runOne(); // the first job; the second moves up
		// …and with one completion in the window there is an ETA from throughput.
		const moved = await sse.until('status', (e) => e.data.position === 1 && e.data.etaSeconds > 0);
		expect(moved.at(-1)!.data.status).toBe('queued');

		const claim = (await island.claim())!;
		expect(claim.job.id).toBe(second.id);
		await sse.until('status', (e) => e.data.status === 'running');
		await island.progress(second.id, claim.lease.token, 2, 4, PREVIEW);
		const progress = (await sse.until('progress')).at(-1)!;
		expect(progress.data).toEqual({ step: 2, total: 4, preview: PREVIEW });

		await island.result(second.id, claim.lease.token, makePng(second.params.width, second.params.height));
		const completed = (await sse.until('completed')).at(-1)!;
		expect(completed.data.imageUrl).toMatch(/^\/api\/images\/.+\.png$/);
		expect(completed.data.verification).toBe('unchecked'); // trust off: no spot check queued
		expect(await sse.next()).toBeNull(); // the stream ends after a terminal event
		expect((await client.request('GET', completed.data.imageUrl)).status).toBe(200);
		expect(first.id).not.toBe(second.id);
	});

	it('gives a late client the current state first, and a resumed one only what changed', async () => {
		const client = await requester(server.url);
		const job = (await client.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		const claim = (await island.claim())!;
		await island.progress(job.id, claim.lease.token, 1, 4, PREVIEW);
		await island.progress(job.id, claim.lease.token, 3, 4);

		const late = new SseReader(await events(client, job.id));
		const seen = await late.until('progress');
		expect(seen[0]).toMatchObject({ event: 'status', data: { status: 'running' } });
		expect(seen.at(-1)!.data).toMatchObject({ step: 3, total: 4 });
		const lastId = seen.at(-1)!.id!;
		await late.close();

		// Reconnecting with the last id: nothing is repeated; the next change arrives.
		const resumed = new SseReader(await events(client, job.id, lastId));
		await island.result(job.id, claim.lease.token, makePng(job.params.width, job.params.height));
		const next = (await resumed.next())!;
		expect(next.event).toBe('completed');
		expect(Number(next.id)).toBeGreaterThan(Number(lastId));
		await resumed.close();

		// Finished and already seen: 204, so EventSource stops reconnecting.
		expect((await events(client, job.id, next.id!)).status).toBe(204);
		// Finished but not seen: the terminal event, then the end.
		const fresh = new SseReader(await events(client, job.id));
		expect((await fresh.next())!.event).toBe('completed');
	});

	it('reports a cancelled job as failed with the refund', async () => {
		const client = await requester(server.url);
		const job = (await client.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		const sse = new SseReader(await events(client, job.id));
		expect((await sse.next())!.event).toBe('status');
		await client.json('DELETE', `/api/jobs/${job.id}`);
		const failed = (await sse.until('failed')).at(-1)!;
		expect(failed.data).toMatchObject({ status: 'cancelled', refunded: job.cost });
	});

	it('refuses the stream without a session (401) and to other users (404)', async () => {
		const client = await requester(server.url);
		const job = (await client.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		expect((await new ApiClient(server.url).request('GET', `/api/jobs/${job.id}/events`)).status).toBe(401);
		expect((await (await requester(server.url, null)).request('GET', `/api/jobs/${job.id}/events`)).status).toBe(404);
		await client.json('DELETE', `/api/jobs/${job.id}`);
	});
});
