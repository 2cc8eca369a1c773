// `npm run bench:longpoll`: many Islands long-polling one server instance, as thousands of
// browser tabs would. Reports the server's memory and file descriptors per waiting Island
// (from /proc: barely moved by other load) and the wake-up latency with that many waiters
// (submit sent → the woken Island holds the lease; this one does depend on the load).
//   npm run bench:longpoll [-- --islands 1000 --jobs 100 --driver pglite|postgres]
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBuild } from '../server/ensure-build.js';
import { ApiClient } from '../harness/client';
import { startServer } from '../harness/server';
import { benchPostgresUrl, type Driver } from '../harness/postgres';
import { demoParams, requester, setKyc, TRUST_OFF } from '../harness/broker';
import { makePng, TestIsland } from '../harness/test-island';

const root = new URL('..', import.meta.url).pathname;
const { values: opts } = parseArgs({
	options: {
		islands: { type: 'string', default: '1000' },
		jobs: { type: 'string', default: '100' },
		driver: { type: 'string', default: 'pglite' }
	}
});
const ISLANDS = Number(opts.islands);
const JOBS = Number(opts.jobs);
// Islands per owner: the default caps on Islands and long-polls per owner (50) hold.
const PER_OWNER = 50;

function serverState(pid: number) {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
	return { rssKb: kb('VmRSS'), fds: readdirSync(`/proc/${pid}/fd`).length };
}
/**
 * The server's state once its memory stops falling: nothing here can force a garbage
 * collection in the server, and garbage left from registering 1,000 Islands once made the
 * idle reading the larger one (a run measured −327 KB per waiting Island). V8 collects a
 * process that stops allocating within seconds; at most 20 s is waited.
 */
async function settledState(pid: number) {
	let state = serverState(pid);
	for (let calm = 0, t = 0; calm < 3 && t < 20; t++) {
		await sleep(1000);
		const next = serverState(pid);
		calm = next.rssKb >= state.rssKb * 0.99 ? calm + 1 : 0;
		state = { ...next, rssKb: Math.min(next.rssKb, state.rssKb) };
	}
	return state;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

const server = await (async () => {
	if (!process.env.BUILD_DIR) ensureBuild();
	return startServer(opts.driver as Driver, { env: { ...TRUST_OFF, RATE_LIMIT_JOBS_PER_MINUTE: '100000000' }, postgresUrl: benchPostgresUrl() });
})();
const pid = server.process.pid!;
try {
	const owners: ApiClient[] = [];
	for (let o = 0; o < Math.ceil(ISLANDS / PER_OWNER); o++) {
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		owners.push(owner);
	}
	const islands: TestIsland[] = [];
	for (let i = 0; i < ISLANDS; i++) islands.push(await TestIsland.register(owners[Math.floor(i / PER_OWNER)]));
	const client = await requester(server.url, 'studio');
	const params = demoParams();
	const png = makePng(params.width, params.height);

	const idle = await settledState(pid);
	// Every Island long-polls; a claim answered with a job is completed and polls again.
	const claimedAt = new Map<string, number>();
	let stopping = false;
	let waiting = 0;
	let errors = 0;
	const loops = islands.map(async (island) => {
		while (!stopping) {
			waiting++;
			const claim = await island.claim().catch(() => (errors++, null));
			waiting--;
			if (!claim || stopping) continue;
			claimedAt.set(claim.job.id, performance.now());
			await island.result(claim.job.id, claim.lease.token, png).catch(() => errors++);
		}
	});
	// Until the server holds every long-poll (each Island's request is in its dispatcher).
	for (let t = 0; t < 120 && serverState(pid).fds < idle.fds + ISLANDS * 0.98; t++) await sleep(500);
	const holding = await settledState(pid);

	// Wake-ups with that many waiters: one job at a time, each claimed before the next.
	const latencies: number[] = [];
	for (let j = 0; j < JOBS; j++) {
		const sent = performance.now();
		const r = await client.json('POST', '/api/jobs', { json: { params } });
		if (r.status !== 201) throw new Error(`submit: ${r.status} ${JSON.stringify(r.body)}`);
		const id = r.body.job.id as string;
		for (let t = 0; !claimedAt.has(id); t++) {
			if (t > 20_000) throw new Error(`job ${id} never claimed`);
			await sleep(1);
		}
		latencies.push(claimedAt.get(id)! - sent);
		await sleep(20);
	}
	latencies.sort((a, b) => a - b);
	const out = {
		date: new Date().toISOString(),
		driver: opts.driver,
		islands: ISLANDS,
		jobs: JOBS,
		idle,
		holding,
		perWaitingIsland: { rssKb: (holding.rssKb - idle.rssKb) / ISLANDS, fds: (holding.fds - idle.fds) / ISLANDS },
		wakeToClaimMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1)! },
		clientErrors: errors,
		loadavg: loadavg(),
		cpus: cpus().length
	};
	console.log(JSON.stringify(out, null, 2));
	mkdirSync(join(root, 'bench-results'), { recursive: true });
	writeFileSync(join(root, 'bench-results/longpoll.json'), JSON.stringify(out, null, 2) + '\n');
	stopping = true;
	void Promise.all(loops);
} finally {
	await server.dispose();
}
process.exit(0);
