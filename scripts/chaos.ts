// `npm run chaos`: 1,000 jobs through a real broker and real Island processes while Islands
// are SIGKILLed mid-job and the broker is restarted twice (SIGTERM, then SIGKILL). PostgreSQL
// when DATABASE_URL is set (its database is used as is), else PGlite in a temporary folder.
// Prints the report, writes bench-results/chaos.json and the table in docs/testing.md; exits 1
// when anything was lost, double-charged or unbalanced.
//
//   npm run chaos -- [--jobs 1000] [--islands 20] [--real 2] [--users 5] [--step-ms 20] [--no-readme]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { ensureBuild } from '../server/ensure-build.js';
import { chaosTable, runChaos } from '../harness/chaos';

const { values } = parseArgs({
	options: {
		jobs: { type: 'string', default: '1000' },
		islands: { type: 'string', default: '20' },
		real: { type: 'string', default: '2' },
		users: { type: 'string', default: '5' },
		'step-ms': { type: 'string', default: '20' },
		'no-readme': { type: 'boolean', default: false }
	}
});

const root = new URL('..', import.meta.url);
ensureBuild();
const databaseUrl = process.env.DATABASE_URL;
const options = {
	driver: databaseUrl ? ('postgres' as const) : ('pglite' as const),
	databaseEnv: databaseUrl ? { DATABASE_URL: databaseUrl } : undefined,
	jobs: Number(values.jobs),
	islands: Number(values.islands),
	realIslands: Number(values.real),
	requesters: Number(values.users),
	stepMs: Number(values['step-ms']),
	log: (m: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${m}`)
};
const report = await runChaos(options);
console.log(JSON.stringify(report, null, 2));

const cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown CPU';
const machine = `${cpus().length} cores, ${cpu}`;
mkdirSync(new URL('bench-results/', root), { recursive: true });
const saved = { ...report, machine, date: new Date().toISOString(), load: loadavg()[0] };
writeFileSync(new URL(`bench-results/chaos-${report.driver}.json`, root), JSON.stringify(saved, null, 2) + '\n');

if (!values['no-readme']) {
	// One table, a column per database, from the last run on each.
	const runs = (['pglite', 'postgres'] as const)
		.map((driver) => new URL(`bench-results/chaos-${driver}.json`, root))
		.filter((file) => existsSync(file))
		.map((file) => JSON.parse(readFileSync(file, 'utf8')) as typeof saved);
	const readme = new URL('docs/testing.md', root);
	const text = readFileSync(readme, 'utf8');
	const start = '<!-- chaos:start -->';
	const end = '<!-- chaos:end -->';
	const i = text.indexOf(start);
	const j = text.indexOf(end);
	if (i >= 0 && j > i) {
		const notes = runs.map((r) => `${r.driver === 'postgres' ? 'PostgreSQL' : 'PGlite'}: ${r.date.slice(0, 16).replace('T', ' ')} UTC, ${r.machine}, load average ${r.load.toFixed(1)}`);
		const body = `\n${chaosTable(runs)}\n\n_${notes.join('; ')}. Fast Islands run the full protocol with a stand-in for the model (no inference); real ones run the demo model._\n`;
		writeFileSync(readme, text.slice(0, i + start.length) + body + text.slice(j));
		console.log('docs/testing.md chaos table updated');
	}
}
console.log(report.ok ? 'chaos: OK' : 'chaos: FAILED');
process.exit(report.ok ? 0 : 1);
