// Summarises V8 CPU profiles (`node --cpu-prof`): self time by area (PGlite, Drizzle,
// SvelteKit, the app, Node's HTTP…) and the top functions, for docs/broker-costs.md.
//   npx tsx scripts/cpu-profile-summary.ts <dir or .cpuprofile>… [--jobs N] [--top 25]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface Node {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
	nodes: Node[];
	samples: number[];
	timeDeltas: number[];
	startTime: number;
	endTime: number;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { jobs: { type: 'string' }, top: { type: 'string', default: '25' } } });
const files = positionals.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f)) : [p]));

/** Which part of the stack a frame belongs to, from its script's URL. */
function area({ url, functionName }: Node['callFrame']): string {
	if (!url) return ['(idle)', '(program)', '(garbage collector)'].includes(functionName) ? functionName : '(native)';
	// PGlite's Postgres: its WASM functions are named by the module's wasm:// URL.
	if (url.startsWith('wasm://')) return 'Postgres in WASM (PGlite)';
	if (url.includes('@electric-sql/pglite')) return "PGlite's JavaScript";
	if (url.includes('drizzle-orm')) return 'Drizzle';
	if (url.includes('/pg/') || url.includes('pg-protocol') || url.includes('pg-pool')) return 'node-postgres';
	if (url.includes('@sveltejs/kit') || /build\/(server\/)?(index|handler)\.js/.test(url) || url.includes('/build/handler')) return 'SvelteKit';
	if (url.includes('/zod/')) return 'zod';
	if (url.startsWith('node:') || url.includes('internal/')) return 'Node (HTTP, streams, crypto…)';
	if (url.includes('/build/server/chunks/') || url.includes('/build/server/')) return 'the app (routes, broker, ledger)';
	if (url.includes('/server/')) return 'the app (routes, broker, ledger)';
	return url.replace(/^.*node_modules\//, '').split('/')[0] || url;
}

const byArea = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
let idle = 0;
for (const file of files) {
	const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
	const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
	profile.samples.forEach((id, i) => {
		const frame = nodes.get(id)!.callFrame;
		const us = profile.timeDeltas[i] ?? 0;
		if (frame.functionName === '(idle)') {
			idle += us;
			return;
		}
		total += us;
		const a = area(frame);
		byArea.set(a, (byArea.get(a) ?? 0) + us);
		const name = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(node_modules|build)\//, '')}:${frame.lineNumber + 1}`;
		byFunction.set(name, (byFunction.get(name) ?? 0) + us);
	});
}

const jobs = values.jobs ? Number(values.jobs) : undefined;
const ms = (us: number) => (us / 1000).toFixed(0);
const perJob = (us: number) => (jobs ? ` | ${(us / 1000 / jobs).toFixed(2)}` : '');
console.log(`${files.length} profile(s): ${ms(total)} ms busy, ${ms(idle)} ms idle${jobs ? `, ${jobs} jobs` : ''}\n`);
console.log(`| area | CPU ms | share${jobs ? ' | ms per job' : ''} |\n|---|---:|---:|${jobs ? '---:|' : ''}`);
for (const [a, us] of [...byArea].sort((x, y) => y[1] - x[1])) console.log(`| ${a} | ${ms(us)} | ${((100 * us) / total).toFixed(1)} %${perJob(us)} |`);
console.log(`\n| function (self time) | CPU ms | share |\n|---|---:|---:|`);
for (const [f, us] of [...byFunction].sort((x, y) => y[1] - x[1]).slice(0, Number(values.top))) console.log(`| \`${f}\` | ${ms(us)} | ${((100 * us) / total).toFixed(1)} % |`);
