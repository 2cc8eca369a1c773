// `npm run bench:broker`: what each step of a job costs the broker itself, in process: no
// HTTP and no load generator, one call after another. Its statement counts are exact (what to
// compare a change by); its CPU times vary with the machine, so compare them in A/B pairs.
// For each step (a submit, the claim that takes the
// job, its result, the claim that then finds nothing): CPU ms and statements per job, on
// PGlite and, with BENCH_DATABASE_URL (or TEST_DATABASE_URL), PostgreSQL. The steps are the
// functions the routes call; sessions, rate limits and the Island's token are the routes'
// and not counted here. Options: --jobs N (measured, after 200 to warm up) --driver pglite|postgres
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { benchPostgresUrl } from '../harness/postgres';

const root = new URL('..', import.meta.url).pathname;
const { values: opts } = parseArgs({ options: { jobs: { type: 'string', default: '1000' }, driver: { type: 'string' } } });
const JOBS = Number(opts.jobs);
const pgUrl = benchPostgresUrl();
const driverList = opts.driver ? [opts.driver] : pgUrl ? ['pglite', 'postgres'] : ['pglite'];

// The server code imports files the way Vite does (`blocklist.txt?raw`), so it is loaded
// through Vite's SSR loader, as the tests load it.
const vite = await createServer({ configFile: join(root, 'vite.config.ts'), server: { middlewareMode: true, hmr: false, ws: false, watch: null }, appType: 'custom', logLevel: 'error' });
const { measure, STEPS } = (await vite.ssrLoadModule('/scripts/bench-broker-run.ts')) as typeof import('./bench-broker-run');
const results = [];
try {
	for (const driver of driverList) {
		console.log(`bench:broker on ${driver}: ${JOBS} jobs, one step after another, in process…`);
		results.push(await measure(driver, JOBS, pgUrl));
	}
} finally {
	await vite.close();
}
console.log('\n| database | step | CPU ms per job | statements per job |\n|---|---|---|---|');
for (const r of results) {
	for (const s of STEPS) console.log(`| ${r.driver} | ${s} | ${r.steps[s].cpuMs.toFixed(2)} | ${r.steps[s].statements.toFixed(1)} |`);
	console.log(`| ${r.driver} | **a whole job** | **${r.job.cpuMs.toFixed(2)}** | **${r.job.statements.toFixed(1)}** |`);
}
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results/broker.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, results }, null, 2));
console.log('\nwritten to bench-results/broker.json');
