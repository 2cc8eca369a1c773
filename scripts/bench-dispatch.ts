// `npm run bench:dispatch`: the broker under load, through the real server and HTTP.
// 50 Islands long-poll; jobs are submitted by a few requesters; each Island answers its claim
// at once with a real PNG (no inference), so what is measured is the broker: submit → claim
// latency (from sending POST /api/jobs to the Island holding the lease) and settled jobs per
// second. PGlite always; PostgreSQL too with TEST_DATABASE_URL (or BENCH_DATABASE_URL). Two
// phases: paced (jobs arrive at --rate per second: latency) and saturated (--submitters
// back-to-back: throughput). Nothing is retried: a connection reset or a non-2xx answer is
// counted and reported (`--paced-seconds 300` is the issue's 5-minute reset check).
// Options: --islands N --jobs N (per phase) --paced-seconds N (paced phase length instead of
// --jobs) --submitters N --rate N --driver pglite|postgres --warm-up N (jobs sent back to back
// before the phases, not measured)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuild } from '../server/ensure-build.js';
import { ApiClient } from '../harness/client';
import { startServer } from '../harness/server';
import { benchPostgresUrl, type Driver } from '../harness/postgres';
import { demoParams, setKyc, TRUST_OFF } from '../harness/broker';
import { makePng, TestIsland, type ClaimBody } from '../harness/test-island';

const root = new URL('..', import.meta.url).pathname;
const { values: opts } = parseArgs({
	options: {
		islands: { type: 'string', default: '50' },
		jobs: { type: 'string', default: '500' },
		submitters: { type: 'string', default: '8' },
		rate: { type: 'string', default: '25' },
		'paced-seconds': { type: 'string' },
		driver: { type: 'string' },
		'warm-up': { type: 'string', default: '300' }
	}
});
const WARM_UP = Number(opts['warm-up']);
const ISLANDS = Number(opts.islands);
const JOBS = Number(opts.jobs);
const SUBMITTERS = Number(opts.submitters);
const RATE = Number(opts.rate);
const PACED_JOBS = opts['paced-seconds'] ? Math.round(Number(opts['paced-seconds']) * RATE) : JOBS;
const pgUrl = benchPostgresUrl();
const driverList = opts.driver ? [opts.driver] : pgUrl ? ['pglite', 'postgres'] : ['pglite'];

/** CPU time (user + system) a process has used so far, from /proc (Linux). */
function processCpuMs(pid: number): number {
	const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	// utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
	return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/**
 * CPU time each PostgreSQL backend serving the server's database has used so far, by pid (a
 * PostgreSQL on this machine; empty for PGlite). The backends are PostgreSQL's share of a job.
 */
async function postgresBackendsCpuMs(databaseUrl: string | undefined): Promise<Map<number, number>> {
	const cpu = new Map<number, number>();
	if (!databaseUrl) return cpu;
	const { default: pg } = await import('pg');
	const client = new pg.Client({ connectionString: databaseUrl });
	await client.connect();
	try {
		const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
		for (const { pid } of rows) if (existsSync(`/proc/${pid}/stat`)) cpu.set(pid, processCpuMs(pid));
	} finally {
		await client.end();
	}
	return cpu;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function run(driver: string) {
	const server = await startServer(driver as Driver, {
		// Trust's probation and spot checks off: this measures the dispatch (with its one lease per
		// Island and the claim's admission check); the stand-in Islands would otherwise wait on
		// canaries no vouched Island answers.
		// The requesters keep every job of a phase queued at once, past the per-user queue limit.
		env: { RATE_LIMIT_JOBS_PER_MINUTE: '100000000', MAX_ACTIVE_JOBS_PER_USER: '1000000', ...TRUST_OFF },
		postgresUrl: pgUrl
	});
	// Everything that went wrong between the clients and the server: counted, never retried.
	const failures = { connectionResets: 0, otherNetworkErrors: 0, non2xx: {} as Record<string, number> };
	const networkError = (err: unknown) => {
		const code = (err as { cause?: { code?: string } }).cause?.code;
		if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') failures.connectionResets++;
		else failures.otherNetworkErrors++;
		console.error(`network error: ${code ?? err}`);
	};
	const non2xx = (what: string, status: number) => (failures.non2xx[`${what} ${status}`] = (failures.non2xx[`${what} ${status}`] ?? 0) + 1);
	try {
		const requesters: ApiClient[] = [];
		// Each requester's share of both phases, at 10 credits a job.
		const jobsEach = (WARM_UP + PACED_JOBS + JOBS) / SUBMITTERS + 1;
		for (let i = 0; i < SUBMITTERS; i++) {
			const c = new ApiClient(server.url);
			await c.signUp();
			await setKyc(c, 'verified');
			for (let credits = 0; credits < jobsEach * 10; credits += 2000) await c.buy('studio');
			requesters.push(c);
		}
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		const islands = await Promise.all(Array.from({ length: ISLANDS }, () => TestIsland.register(owner)));
		const params = demoParams();
		const png = makePng(params.width, params.height);

		const sentAt = new Map<string, number>();
		const respondedAt = new Map<string, number>();
		const claimedAt = new Map<string, number>();
		/** Jobs settled, plus jobs whose upload failed (counted above; they would settle only on re-dispatch). */
		let done = 0;
		let doneGoal = 0;
		let onDoneGoal = () => {};
		const oneDone = () => ++done === doneGoal && onDoneGoal();
		let stopping = false;
		const loops = islands.map(async (island) => {
			while (!stopping) {
				// The server's shutdown ends long-polls (204) or their sockets: either ends the loop.
				let claim: ClaimBody;
				try {
					const r = await island.call('POST', '/api/islands/claim', {});
					if (r.status === 204) continue;
					if (r.status !== 200) {
						if (!stopping) non2xx('claim', r.status);
						continue;
					}
					claim = r.body as ClaimBody;
				} catch (err) {
					if (stopping) return;
					networkError(err);
					await new Promise((r) => setTimeout(r, 100)); // the real Island backs off too
					continue;
				}
				claimedAt.set(claim.job.id, performance.now());
				const r = await island.result(claim.job.id, claim.lease.token, png).catch((err) => (networkError(err), null));
				if (r && r.status !== 200) non2xx('result', r.status);
				oneDone();
			}
		});
		// Let every Island reach its sleeping long-poll before the first job.
		await new Promise((r) => setTimeout(r, 1000));

		const submit = async (client: ApiClient, ids: string[]) => {
			const t0 = performance.now();
			const r = await client.json('POST', '/api/jobs', { json: { params } }).catch((err) => (networkError(err), null));
			if (!r) return;
			if (r.status !== 201) return void non2xx('submit', r.status);
			sentAt.set(r.body.job.id, t0);
			respondedAt.set(r.body.job.id, performance.now());
			ids.push(r.body.job.id);
		};
		/** Submits `jobs` jobs with `submitJobs`, waits until all are settled, and measures them. */
		const phase = async (submitJobs: (ids: string[]) => Promise<void>) => {
			const ids: string[] = [];
			const cpuBefore = processCpuMs(server.process.pid!);
			const loadGeneratorBefore = process.cpuUsage();
			const postgresBefore = await postgresBackendsCpuMs(server.databaseEnv.DATABASE_URL);
			const loadBefore = loadavg()[0];
			const allDone = new Promise<void>((resolve) => (onDoneGoal = resolve));
			const started = performance.now();
			await submitJobs(ids);
			const submittedAt = performance.now();
			// Submits that failed are never claimed: the goal is the jobs that were accepted.
			doneGoal += ids.length;
			if (done >= doneGoal) onDoneGoal();
			await allDone;
			const lastSettledAt = performance.now();
			const serverCpuMs = processCpuMs(server.process.pid!) - cpuBefore;
			const loadGenerator = process.cpuUsage(loadGeneratorBefore);
			const postgresAfter = await postgresBackendsCpuMs(server.databaseEnv.DATABASE_URL);
			// A backend that ended during the phase is missed: the pool keeps its connections
			// while busy, so this holds for the saturated phase.
			const postgresCpuMs = [...postgresAfter].reduce((sum, [pid, ms]) => sum + ms - (postgresBefore.get(pid) ?? 0), 0);
			const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
			const claimed = ids.filter((id) => claimedAt.has(id));
			const latencies = sorted(claimed.map((id) => claimedAt.get(id)! - sentAt.get(id)!));
			// Dispatch alone: from the submit's 201 to the claim (0 when the claim came first: the
			// NOTIFY/wake-up can beat the HTTP response).
			const dispatch = sorted(claimed.map((id) => Math.max(0, claimedAt.get(id)! - respondedAt.get(id)!)));
			const submitMs = sorted(ids.map((id) => respondedAt.get(id)! - sentAt.get(id)!));
			return {
				submitRequestMs: { p50: quantile(submitMs, 0.5), p99: quantile(submitMs, 0.99) },
				responseToClaimMs: { p50: quantile(dispatch, 0.5), p99: quantile(dispatch, 0.99) },
				submitToClaimMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1)! },
				jobs: ids.length,
				submittedPerSecond: ids.length / ((submittedAt - started) / 1000),
				settledPerSecond: ids.length / ((lastSettledAt - started) / 1000),
				// CPU time the server process used per job (user + system, all its threads; not
				// PostgreSQL's own processes): unlike latencies, barely moved by other work.
				serverCpuMsPerJob: serverCpuMs / ids.length,
				// PostgreSQL's backends for this database (null on PGlite, whose work is the server's).
				postgresCpuMsPerJob: driver === 'postgres' ? postgresCpuMs / ids.length : null,
				// This process: the requesters and the stand-in Islands, sharing the cores with the
				// server (a real deployment's clients are elsewhere).
				loadGeneratorCpuMsPerJob: (loadGenerator.user + loadGenerator.system) / 1000 / ids.length,
				// The 1-minute load average as the phase began and ended: other work on the cores
				// moves latencies and throughput (not the CPU per job).
				loadavg: [loadBefore, loadavg()[0]]
			};
		};

		// Warm-up, not measured: a server fresh from its start runs its first few hundred requests
		// in V8's baseline tiers while it compiles PGlite's WASM and the app's hot paths in the
		// background, on its own threads. A running server is past that.
		let next = 0;
		const backToBack = (jobs: number) => (ids: string[]) =>
			Promise.all(
				requesters.map(async (client) => {
					while (next < jobs) {
						next++;
						await submit(client, ids);
					}
				})
			).then(() => {});
		await phase(backToBack(WARM_UP));
		// Latency: jobs arrive at a steady RATE (open loop, as independent requesters would
		// send them), below what the broker can settle, so a job's wait is dispatch, not a queue.
		const paced = await phase(async (ids) => {
			const start = performance.now();
			const inFlight: Promise<void>[] = [];
			for (let k = 0; k < PACED_JOBS; k++) {
				const wait = start + (k * 1000) / RATE - performance.now();
				if (wait > 0) await new Promise((r) => setTimeout(r, wait));
				inFlight.push(submit(requesters[k % requesters.length], ids));
			}
			await Promise.all(inFlight);
		});
		// Throughput: every submitter sends its next job as soon as the last is answered, so the
		// broker is saturated; latency here is mostly waiting behind the other submissions.
		next = 0;
		const saturated = await phase(backToBack(JOBS));
		stopping = true;
		void Promise.all(loops);
		// The server's side of any reset (server/client-errors.js logs each, rate-limited).
		const serverErrors = server.output().split('\n').filter((l) => l.includes('[http]'));
		for (const line of serverErrors) console.error(`server: ${line}`);
		return { driver, islands: ISLANDS, jobs: JOBS, warmUpJobs: WARM_UP, submitters: SUBMITTERS, ratePerSecond: RATE, paced, saturated, ...failures, serverErrors };
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
console.log(`\n| database | phase | submit → claim p50 | p99 | max | POST /api/jobs p50 / p99 | 201 → claim p50 / p99 | submitted/s | settled jobs/s | server CPU per job | PostgreSQL CPU per job | load generator CPU per job |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|`);
for (const r of results) {
	for (const [name, p] of [[`paced, ${r.ratePerSecond} jobs/s`, r.paced], [`saturated, ${r.submitters} submitters`, r.saturated]] as const) {
		console.log(
			`| ${r.driver} | ${name} | ${f(p.submitToClaimMs.p50)} ms | ${f(p.submitToClaimMs.p99)} ms | ${f(p.submitToClaimMs.max)} ms | ${f(p.submitRequestMs.p50)} / ${f(p.submitRequestMs.p99)} ms | ${f(p.responseToClaimMs.p50)} / ${f(p.responseToClaimMs.p99)} ms | ${f(p.submittedPerSecond)} | ${f(p.settledPerSecond)} | ${f(p.serverCpuMsPerJob)} ms | ${p.postgresCpuMsPerJob === null ? '—' : `${f(p.postgresCpuMsPerJob)} ms`} | ${f(p.loadGeneratorCpuMsPerJob)} ms |`
		);
	}
}
mkdirSync(join(root, 'bench-results'), { recursive: true });
// The load average says how much of the machine the bench had (other work shares it).
const out = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg(), results };
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
writeFileSync(join(root, 'bench-results/dispatch.json'), JSON.stringify(out, null, 2) + '\n');
console.log(`\nwritten to bench-results/dispatch.json`);
process.exit(0);
