// `npm run bench:dispatch`: the broker under load, through the real server and HTTP.
// 50 Islands long-poll; 1,000 jobs are submitted by a few requesters at once; each Island
// answers its claim at once with a real PNG (no inference), so what is measured is the
// broker: submit → claim latency (from sending POST /api/jobs to the Island holding the
// lease) and settled jobs per second. PGlite always; PostgreSQL too with TEST_DATABASE_URL
// (or BENCH_DATABASE_URL). Options: --islands N --jobs N --submitters N --driver pglite|postgres
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuild } from './ensure-build.js';
import { ApiClient } from '../tests/helpers/client';
import { startServer } from '../tests/helpers/server';
import type { Driver } from '../tests/helpers/postgres';
import { demoParams, setKyc } from '../tests/helpers/broker';
import { makePng, TestIsland } from '../tests/helpers/test-island';

const root = new URL('..', import.meta.url).pathname;
const { values: opts } = parseArgs({
	options: {
		islands: { type: 'string', default: '50' },
		jobs: { type: 'string', default: '1000' },
		submitters: { type: 'string', default: '8' },
		driver: { type: 'string' }
	}
});
const ISLANDS = Number(opts.islands);
const JOBS = Number(opts.jobs);
const SUBMITTERS = Number(opts.submitters);
const pgUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
const driverList = opts.driver ? [opts.driver] : pgUrl ? ['pglite', 'postgres'] : ['pglite'];

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function run(driver: string) {
	const server = await startServer(driver as Driver, {
		env: { ARCHIPELAGO_TEST_HOOKS: '1', RATE_LIMIT_JOBS_PER_MINUTE: '100000000' },
		postgresUrl: pgUrl
	});
	try {
		const requesters: ApiClient[] = [];
		for (let i = 0; i < SUBMITTERS; i++) {
			const c = new ApiClient(server.url);
			await c.signUp();
			await setKyc(c, 'verified');
			for (let credits = 0; credits < (JOBS / SUBMITTERS + 1) * 10; credits += 2000) await c.buy('studio');
			requesters.push(c);
		}
		const owner = new ApiClient(server.url);
		await owner.signUp();
		const islands = await Promise.all(Array.from({ length: ISLANDS }, () => TestIsland.register(owner)));
		const params = demoParams();
		const png = makePng(params.width, params.height);

		const sentAt = new Map<string, number>();
		const submitMs: number[] = [];
		const respondedAt = new Map<string, number>();
		const claimedAt = new Map<string, number>();
		let settled = 0;
		let lastSettledAt = 0;
		let stopping = false;
		const allSettled = new Promise<void>((resolve) => {
			const loops = islands.map(async (island) => {
				while (!stopping) {
					// The server's shutdown ends long-polls (204) or their sockets: either ends the loop.
					const claim = await island.claim().catch((err) => {
						if (stopping) return null;
						throw err;
					});
					if (!claim) continue;
					claimedAt.set(claim.job.id, performance.now());
					const r = await island.result(claim.job.id, claim.lease.token, png);
					if (r.status !== 200) throw new Error(`result: ${r.status} ${JSON.stringify(r.body)}`);
					settled++;
					lastSettledAt = performance.now();
					if (settled === JOBS) resolve();
				}
			});
			void Promise.all(loops);
		});
		// Let every Island reach its sleeping long-poll before the first job.
		await new Promise((r) => setTimeout(r, 1000));

		const started = performance.now();
		let next = 0;
		await Promise.all(
			requesters.map(async (client) => {
				while (next < JOBS) {
					next++;
					const t0 = performance.now();
					const r = await client.json('POST', '/api/jobs', { json: { params } });
					if (r.status !== 201) throw new Error(`submit: ${r.status} ${JSON.stringify(r.body)}`);
					sentAt.set(r.body.job.id, t0);
					respondedAt.set(r.body.job.id, performance.now());
					submitMs.push(performance.now() - t0);
				}
			})
		);
		const submittedAt = performance.now();
		await allSettled;
		stopping = true;
		const latencies = [...sentAt].map(([id, t0]) => claimedAt.get(id)! - t0).sort((a, b) => a - b);
		// Dispatch alone: from the submit's 201 to the claim (0 when the claim came first: the
		// NOTIFY/wake-up can beat the HTTP response).
		const dispatch = [...respondedAt].map(([id, t1]) => Math.max(0, claimedAt.get(id)! - t1)).sort((a, b) => a - b);
		return {
			driver,
			islands: ISLANDS,
			jobs: JOBS,
			submitters: SUBMITTERS,
			submitRequestMs: { p50: quantile(submitMs.sort((a, b) => a - b), 0.5), p99: quantile(submitMs, 0.99) },
			responseToClaimMs: { p50: quantile(dispatch, 0.5), p99: quantile(dispatch, 0.99) },
			submitToClaimMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1)! },
			submittedPerSecond: JOBS / ((submittedAt - started) / 1000),
			settledPerSecond: JOBS / ((lastSettledAt - started) / 1000)
		};
	} finally {
		await server.dispose();
	}
}

if (!process.env.BUILD_DIR) ensureBuild();
const results = [];
for (const driver of driverList) {
	console.error(`bench:dispatch on ${driver}: ${ISLANDS} Islands, ${JOBS} jobs, ${SUBMITTERS} submitters…`);
	results.push(await run(driver));
}
const f = (n: number) => n.toFixed(1);
console.log(`\n| database | Islands | jobs | submit → claim p50 | p99 | max | POST /api/jobs p50 / p99 | 201 → claim p50 / p99 | submitted/s | settled jobs/s |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|`);
for (const r of results) {
	console.log(
		`| ${r.driver} | ${r.islands} | ${r.jobs} | ${f(r.submitToClaimMs.p50)} ms | ${f(r.submitToClaimMs.p99)} ms | ${f(r.submitToClaimMs.max)} ms | ${f(r.submitRequestMs.p50)} / ${f(r.submitRequestMs.p99)} ms | ${f(r.responseToClaimMs.p50)} / ${f(r.responseToClaimMs.p99)} ms | ${f(r.submittedPerSecond)} | ${f(r.settledPerSecond)} |`
	);
}
mkdirSync(join(root, 'bench-results'), { recursive: true });
// The load average says how much of the machine the bench had (other work shares it).
const out = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg(), results };
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
writeFileSync(join(root, 'bench-results/dispatch.json'), JSON.stringify(out, null, 2) + '\n');
console.log(`\nwritten to bench-results/dispatch.json`);
process.exit(0);
