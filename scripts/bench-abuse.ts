// `npm run bench:abuse`: one account and one address try to stall the server (issue 13).
// Phase "streams": one verified account with 15 API keys asks for 2,000 event streams of
// its queued job (200 at a time, all kept open). Phase "slow": 2,000 connections from one
// address each send half a request head and stop. Throughout each phase a bystander on
// another loopback address asks /api/health every 50 ms; its latency (p50/p99) is the figure
// (goal p99 ≤ 100 ms), beside how many attempts were refused with 429. The server runs with
// its default limits. PGlite (the default); --driver postgres with BENCH_DATABASE_URL (or TEST_DATABASE_URL).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuild } from '../server/ensure-build.js';
import { startServer } from '../harness/server';
import { benchPostgresUrl, type Driver } from '../harness/postgres';
import { demoParams, requester } from '../harness/broker';
import { halfSentRequest, openStream } from '../harness/raw-http';

const root = new URL('..', import.meta.url).pathname;
const { values: opts } = parseArgs({ options: { streams: { type: 'string', default: '2000' }, slow: { type: 'string', default: '2000' }, driver: { type: 'string', default: 'pglite' } } });
const STREAMS = Number(opts.streams);
const SLOW = Number(opts.slow);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/**
 * A bystander on another address asking /api/health every 50 ms, in a process of its own: in
 * this one, the attack's own sockets would delay the measurement. Stopped by closing its
 * stdin; answers its latencies.
 */
const BYSTANDER = `
const http = require('node:http');
const url = process.argv[1];
const latencies = [];
let failures = 0, running = true;
process.stdin.on('end', () => (running = false)).resume();
(async () => {
	// Its own first request pays for loading node:http's client: made, not counted.
	await new Promise((resolve) => http.get(url + '/api/health', { localAddress: '127.0.0.2', agent: false }, (res) => res.resume().on('end', resolve)).on('error', resolve));
	process.stdout.write('ready\\n');
	while (running) {
		const t0 = performance.now();
		const ok = await new Promise((resolve) => {
			const req = http.get(url + '/api/health', { localAddress: '127.0.0.2', agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode === 200)); });
			req.on('error', () => resolve(false));
		});
		if (ok) latencies.push(performance.now() - t0); else failures++;
		await new Promise((r) => setTimeout(r, 50));
	}
	process.stdout.write(JSON.stringify({ latencies, failures }) + '\\n');
})();`;

function bystander(url: string) {
	const child = spawn(process.execPath, ['-e', BYSTANDER, url], { stdio: ['pipe', 'pipe', 'inherit'] });
	let out = '';
	let onReady = () => {};
	const ready = new Promise<void>((r) => (onReady = r));
	child.stdout.on('data', (d) => {
		out += d;
		if (out.startsWith('ready\n')) onReady();
	});
	const done = new Promise((r) => child.once('exit', r));
	const stop = async () => {
		child.stdin.end();
		await done;
		const { latencies, failures } = JSON.parse(out.slice('ready\n'.length)) as { latencies: number[]; failures: number };
		// The slowest three with their place in the series (0: the phase's first request).
		const slowest = latencies.map((ms, i) => ({ i, ms: Math.round(ms) })).sort((a, b) => b.ms - a.ms).slice(0, 3);
		const sorted = [...latencies].sort((a, b) => a - b);
		return { requests: latencies.length + failures, failures, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? NaN, slowest };
	};
	// Resolves once its first (uncounted) request is answered.
	return Object.assign(stop, { ready });
}

ensureBuild();
// The real defaults for every limit (the test helper raises the per-address ones).
const server = await startServer(opts.driver as Driver, {
	env: {
		RATE_LIMIT_JOBS_PER_MINUTE: '100',
		RATE_LIMIT_JOBS_PER_MINUTE_PER_IP: '1000',
		ACCOUNT_WRITES_PER_IP_PER_HOUR: '200',
		MAX_CONNECTIONS_PER_ADDRESS: '64'
	},
	postgresUrl: benchPostgresUrl()
});
const phases: Record<string, unknown> = {};
try {
	// Phase 1: event streams from one account, spread over its keys.
	const attacker = await requester(server.url, 'creator');
	const job = (await attacker.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job.id as string;
	const keys: string[] = [];
	for (let i = 0; i < 15; i++) keys.push((await attacker.json('POST', '/api/keys', { json: { name: `k${i}` } })).body.secret);
	// Every route module is loaded on its first request (SvelteKit imports it then): done before
	// the bystander starts, so what it measures is the flood, not a one-off start-up cost.
	const warm = await openStream(`${server.url}/api/jobs/${job}/events`, { headers: { authorization: `Bearer ${keys[0]}` } });
	warm.close();
	let stop = bystander(server.url);
	await stop.ready;
	const statuses = new Map<number, number>();
	const open: { close(): void }[] = [];
	for (let start = 0; start < STREAMS; start += 200) {
		const batch = Array.from({ length: Math.min(200, STREAMS - start) }, (_, i) =>
			openStream(`${server.url}/api/jobs/${job}/events`, { headers: { authorization: `Bearer ${keys[(start + i) % keys.length]}` } }).then(
				(s) => (s.status === 200 ? open.push(s) : s.close(), s.status),
				() => 0
			)
		);
		for (const status of await Promise.all(batch)) statuses.set(status, (statuses.get(status) ?? 0) + 1);
	}
	await new Promise((r) => setTimeout(r, 5000)); // the open streams sit on the queue board a while
	phases.streams = { attempts: STREAMS, statuses: Object.fromEntries(statuses), held: open.length, health: await stop(), loadavg: loadavg() };
	open.forEach((s) => s.close());

	// Phase 2: half-sent requests from one address.
	const port = Number(new URL(server.url).port);
	stop = bystander(server.url);
	await stop.ready;
	const slow = Array.from({ length: SLOW }, () => halfSentRequest(port, '127.0.0.3'));
	await Promise.all(slow.map((s) => s.connected.catch(() => {})));
	const answers = await Promise.all(slow.map((s) => s.closed));
	const by = (prefix: string) => answers.filter((a) => a.startsWith(prefix)).length;
	phases.slow = { attempts: SLOW, refused429: by('HTTP/1.1 429'), timedOut408: by('HTTP/1.1 408'), health: await stop(), loadavg: loadavg() };
} finally {
	await server.dispose();
}

const out = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, driver: opts.driver, phases };
console.log(JSON.stringify(out, null, 2));
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results/abuse.json'), JSON.stringify(out, null, 2));
process.exit(0);
