// The shared Island loop (src/lib/island/runner.ts), which the browser tab and the headless
// Island both run, against the production server: it heartbeats on a timer, so a job that
// takes longer than the broker's offline timeout doesn't make its Island look offline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { BROKER_ENV, balance, demoParams, requester, setKyc } from '../../harness/broker';
import { makePng } from '../../harness/test-island';
import { IslandClient } from '../../src/lib/island/protocol';
import { IslandRunner, type IslandEngine, type JobOutcome } from '../../src/lib/island/runner';

/** An engine that takes `ms` per job (honouring abort) and draws a flat PNG of the right size. */
function slowEngine(ms: number): IslandEngine {
	return {
		generate: (p, onStep, signal) =>
			new Promise((resolve, reject) => {
				const t = setTimeout(() => (onStep({ step: p.steps, total: p.steps }), resolve(makePng(p.width, p.height))), ms);
				signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
			})
	};
}

describe.each(drivers)('Island runner on %s', (driver) => {
	let server: TestServer;
	beforeAll(async () => {
		// Offline after 1.5 s of silence, looked for every 200 ms.
		server = await startServer(driver, { env: { ...BROKER_ENV, ISLAND_OFFLINE_AFTER_MS: '1500', REAP_INTERVAL_MS: '200' } });
	});
	afterAll(() => server.dispose());

	async function runOneJob(heartbeatMs: number) {
		const alice = await requester(server.url);
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		const token = (await owner.json('POST', '/api/islands', { json: { name: 'slow' } })).body.token as string;
		const outcomes: JobOutcome[] = [];
		const runner = new IslandRunner({
			client: async () => new IslandClient({ url: server.url, token }),
			capabilities: () => ({ backend: 'wasm', models: ['demo'], maxPixels: 512 * 512 }),
			engine: slowEngine(4_000),
			heartbeatMs,
			onJobEnd: (_job, outcome) => (outcomes.push(outcome), runner.stop())
		});
		const running = runner.run();
		expect((await alice.json('POST', '/api/jobs', { json: { params: demoParams() } })).status).toBe(201);
		await expect.poll(() => runner.busy, { timeout: 10_000 }).toBe(true);
		// Well past the offline timeout, mid-job.
		await new Promise((r) => setTimeout(r, 3_000));
		const [island] = (await owner.json('GET', '/api/islands')).body.islands;
		await running;
		// What it earned waits in the Island's escrow (docs/trust.md), not yet in the owner's balance.
		expect(await balance(owner)).toEqual({ available: 0, held: 0 });
		const [after] = (await owner.json('GET', '/api/islands')).body.islands;
		return { onlineMidJob: island.online as boolean, outcomes, earned: after.escrowed as number };
	}

	it('keeps a job longer than the offline timeout online, and reports what it earned', async () => {
		const { onlineMidJob, outcomes, earned } = await runOneJob(300);
		expect(onlineMidJob).toBe(true);
		expect(outcomes).toHaveLength(1);
		expect(outcomes[0]).toEqual({ kind: 'done', earned });
		expect(earned).toBeGreaterThan(0);
	});

	it('(control) an Island that beats only between claims goes offline mid-job', async () => {
		const { onlineMidJob, outcomes } = await runOneJob(60_000);
		expect(onlineMidJob).toBe(false);
		expect(outcomes[0].kind).toBe('done');
	});
});
