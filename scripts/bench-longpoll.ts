// `npm run bench:longpoll`: many Islands long-polling one server instance, as thousands of
// browser tabs would. Reports the server's memory and file descriptors per waiting Island
// (from /proc: barely moved by other load; and the live heap, after a garbage collection the
// bench asks the server for, harness/gc-probe.mjs) and the wake-up latency with that many
// waiters (submit sent → the woken Island holds the lease; this one does depend on the load).
//   npm run bench:longpoll [-- --islands 1000 --jobs 100 --driver pglite|postgres]
import type { ChildProcess } from 'node:child_process';
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
interface GcProbe {
	collected: boolean;
	heapUsed: number;
	external: number;
}

/** The server collects its garbage and reports its live memory (harness/gc-probe.mjs); RSS and descriptors come from /proc. */
function collectGarbage(child: ChildProcess): Promise<GcProbe> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('the server did not answer the gc probe')), 10_000);
		const onMessage = (m: { type?: string } & GcProbe) => {
			if (m.type !== 'gc-probe') return;
			clearTimeout(timer);
			child.off('message', onMessage);
			resolve(m);
		};
		child.on('message', onMessage);
		child.send({ type: 'gc-probe' });
	});
}

/**
 * The server's state after a full garbage collection: its live JavaScript memory (V8's heap
 * and the buffers outside it), its RSS and descriptors. Without the collection, garbage left
 * from registering 1,000 Islands once made the idle reading the larger (−327 KB per waiting
 * Island), and the figure ran from 14 to 49 KB across runs. Read until two readings a second
 * apart agree within 1 %: a fresh PGlite data directory's initdb (its own WASM instance, about
 * 450 MB) is still held for a few seconds after the server starts.
 */
async function settledState(child: ChildProcess) {
	const live = async () => {
		const probe = await collectGarbage(child);
		if (!probe.collected) throw new Error('the server runs without --expose-gc: no garbage collection to measure after');
		return (probe.heapUsed + probe.external) / 1024;
	};
	let liveKb = await live();
	for (let t = 0; t < 20; t++) {
		await sleep(1000);
		const next = await live();
		const agreed = Math.abs(next - liveKb) <= liveKb * 0.01;
		liveKb = next;
		if (agreed) break;
	}
	const { rssKb, fds } = serverState(child.pid!);
	return { rssKb, fds, liveKb };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

const server = await (async () => {
	if (!process.env.BUILD_DIR) ensureBuild();
	return startServer(opts.driver as Driver, {
		env: { ...TRUST_OFF, RATE_LIMIT_JOBS_PER_MINUTE: '100000000' },
		postgresUrl: benchPostgresUrl(),
		execArgv: ['--expose-gc', '--import', join(root, 'harness/gc-probe.mjs')]
	});
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

	const idle = await settledState(server.process);
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
	const holding = await settledState(server.process);

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
		perWaitingIsland: {
			liveKb: (holding.liveKb - idle.liveKb) / ISLANDS,
			rssKb: (holding.rssKb - idle.rssKb) / ISLANDS,
			fds: (holding.fds - idle.fds) / ISLANDS
		},
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
