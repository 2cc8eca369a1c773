// Two server processes on one PostgreSQL: wake-ups and SSE cross instances through
// LISTEN/NOTIFY, not through polling.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { startServer, type TestServer } from '../../harness/server';
import { BROKER_ENV, demoParams, ledgerAdmin, requester, setKyc } from '../../harness/broker';
import { SseReader } from '../helpers/sse';
import { makePng, TestIsland } from '../../harness/test-island';

// The claim's slow safety-net poll (CLAIM_FALLBACK_POLL_MS in src/lib/server/jobs/dispatch.ts).
const FALLBACK_POLL_MS = 10_000;

describe.skipIf(!process.env.TEST_DATABASE_URL)('two instances on one PostgreSQL', () => {
	let a: TestServer;
	let b: TestServer;
	let admin: ApiClient;
	beforeAll(async () => {
		a = await startServer('postgres', { env: BROKER_ENV });
		b = await startServer('postgres', { env: BROKER_ENV, databaseEnv: a.databaseEnv });
		admin = await ledgerAdmin(a.url);
	});
	afterAll(async () => {
		expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
		await b.stop();
		await a.dispose();
	});

	it('wakes a claim sleeping on B when a job is submitted on A, and streams B’s progress on A', async () => {
		const client = await requester(a.url);
		const owner = new ApiClient(a.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		const islandOnA = await TestIsland.register(owner);
		const island = new TestIsland(b.url, islandOnA.token, islandOnA.id);

		const latencies: number[] = [];
		const afterResponse: number[] = [];
		for (let round = 0; round < 5; round++) {
			const claimed = island.claim().then((c) => ({ c, at: performance.now() }));
			// Let the long-poll reach its sleep on B (a claim that found nothing waits for a wake-up).
			await new Promise((r) => setTimeout(r, 300));
			const sent = performance.now();
			const job = (await client.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
			const responded = performance.now();
			const { c, at } = await claimed;
			afterResponse.push(at - responded);
			expect(c!.job.id).toBe(job.id);
			latencies.push(at - sent);

			if (round === 0) {
				const sse = new SseReader(await client.request('GET', `/api/jobs/${job.id}/events`));
				await sse.until('status', (e) => e.data.status === 'running');
				expect((await island.progress(job.id, c!.lease.token, 2, 4)).status).toBe(200);
				expect((await sse.until('progress')).at(-1)!.data).toMatchObject({ step: 2, total: 4 });
				expect((await island.result(job.id, c!.lease.token, makePng(job.params.width, job.params.height))).status).toBe(200);
				expect((await sse.until('completed')).at(-1)!.data.imageUrl).toMatch(/\.png$/);
			} else {
				await island.complete(c!);
			}
		}
		latencies.sort((x, y) => x - y);
		console.log(
			`submit sent on A → claim received on B (ms): ${latencies.map((l) => l.toFixed(1)).join(', ')}; ` +
				`after the submit's response: ${afterResponse.map((l) => l.toFixed(1)).join(', ')}`
		);
		// Woken by NOTIFY: far sooner than the fallback poll, which would take ~10 s here.
		expect(latencies.at(-1)!).toBeLessThan(FALLBACK_POLL_MS / 5);
	});

	it('tells an Island on B that a job cancelled on A is gone (410)', async () => {
		const client = await requester(a.url);
		const owner = new ApiClient(b.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		const island = await TestIsland.register(owner);
		const job = (await client.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		const claim = (await island.claim())!;
		expect(claim.job.id).toBe(job.id);
		expect((await client.json('DELETE', `/api/jobs/${job.id}`)).body.job.status).toBe('cancelled');
		expect((await island.progress(job.id, claim.lease.token, 1, 4)).status).toBe(410);
	});
});
