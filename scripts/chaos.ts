// `npm run chaos`: 1,000 jobs through a real broker and real Island processes while Islands
// are SIGKILLed mid-job and the broker is restarted twice (SIGTERM, then SIGKILL). PostgreSQL
// when DATABASE_URL is set (its database is used as is), else PGlite in a temporary folder.
// Prints the report, writes bench-results/chaos.json and the table in docs/testing.md; exits 1
// when anything was lost, double-charged or unbalanced.
//
// With --liars N, Island trust is on at the product's defaults (TRUST_* variables in the
// environment override them), Island 0 is vouched by the admin as the reference and Islands
// 1…N lie on --lie-rate of their jobs after three honest ones; no real Islands (the demo model
// draws other pictures than the fast Islands' stand-in, which honest Islands would disagree
// with). Its table goes between the chaos-liars markers, a column per set of TRUST_* values.
//
//   npm run chaos -- [--jobs 1000] [--islands 20] [--real 2] [--users 5] [--step-ms 20] [--no-readme]
//   [TRUST_NEW_ISLAND_SPOT_CHECK_RATE=0.5] npm run chaos -- --liars 3 [--lie-rate 0.2] [--jobs 600] [--islands 12] [--established]
// --established: the honest Islands have been trusted for 30 days (an established network the
// liars join); without it every Island is new.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { ensureBuild } from '../server/ensure-build.js';
import { runChaos } from '../harness/chaos';
import { chaosTable, liarsTable, type LiarRun } from '../harness/chaos-table';

const { values } = parseArgs({
	options: {
		jobs: { type: 'string', default: '1000' },
		islands: { type: 'string', default: '20' },
		real: { type: 'string', default: '2' },
		users: { type: 'string', default: '5' },
		'step-ms': { type: 'string', default: '20' },
		liars: { type: 'string' },
		'lie-rate': { type: 'string', default: '0.2' },
		established: { type: 'boolean', default: false },
		'no-readme': { type: 'boolean', default: false }
	}
});

const root = new URL('..', import.meta.url);
ensureBuild();
const databaseUrl = process.env.DATABASE_URL;
const liars = values.liars === undefined ? undefined : Number(values.liars);
const trustEnv = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('TRUST_') && e[1] !== undefined));
const knobs = Object.keys(trustEnv).length ? Object.entries(trustEnv).map(([k, v]) => `${k}=${v}`).join(' ') : 'defaults';
const label = values.established ? `established network, ${knobs}` : knobs;
const options = {
	driver: databaseUrl ? ('postgres' as const) : ('pglite' as const),
	databaseEnv: databaseUrl ? { DATABASE_URL: databaseUrl } : undefined,
	jobs: Number(values.jobs),
	islands: Number(values.islands),
	realIslands: liars === undefined ? Number(values.real) : 0,
	liars,
	established: values.established,
	lieRate: Number(values['lie-rate']),
	trustEnv,
	requesters: Number(values.users),
	stepMs: Number(values['step-ms']),
	log: (m: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${m}`)
};
const report = await runChaos(options);
console.log(JSON.stringify(report, null, 2));

const cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown CPU';
const machine = `${cpus().length} cores, ${cpu}`;
mkdirSync(new URL('bench-results/', root), { recursive: true });
const saved = { ...report, machine, date: new Date().toISOString(), load: loadavg()[0], label };
const start = (name: string) => `<!-- ${name}:start -->`;
const end = (name: string) => `<!-- ${name}:end -->`;
/** Replaces what lies between the markers `name` in docs/testing.md. */
function writeTable(name: string, body: string) {
	const readme = new URL('docs/testing.md', root);
	const text = readFileSync(readme, 'utf8');
	const i = text.indexOf(start(name));
	const j = text.indexOf(end(name));
	if (i < 0 || j < i) return console.log(`docs/testing.md has no ${name} markers`);
	writeFileSync(readme, text.slice(0, i + start(name).length) + body + text.slice(j));
	console.log(`docs/testing.md ${name} table updated`);
}
const when = (r: typeof saved) => `${r.date.slice(0, 16).replace('T', ' ')} UTC, ${r.machine}, load average ${r.load.toFixed(1)}`;

if (liars !== undefined) {
	const slug = label.replace(/[^A-Za-z0-9.=]+/g, '_');
	writeFileSync(new URL(`bench-results/chaos-liars-${report.driver}-${slug}.json`, root), JSON.stringify(saved, null, 2) + '\n');
	if (!values['no-readme']) {
		// A column per saved run with liars: the defaults first, then each set of overrides.
		const runs = readdirSync(new URL('bench-results/', root))
			.filter((f) => f.startsWith('chaos-liars-') && f.endsWith('.json'))
			.map((f) => JSON.parse(readFileSync(new URL(`bench-results/${f}`, root), 'utf8')) as LiarRun & typeof saved)
			.sort((a, b) => Number(b.label.endsWith('defaults')) - Number(a.label.endsWith('defaults')) || a.label.localeCompare(b.label));
		const notes = runs.map((r) => `${r.label}: ${when(r)}`);
		writeTable('chaos-liars', `\n${liarsTable(runs)}\n\n_${notes.join('; ')}._\n`);
	}
} else {
	writeFileSync(new URL(`bench-results/chaos-${report.driver}.json`, root), JSON.stringify(saved, null, 2) + '\n');
}

if (liars === undefined && !values['no-readme']) {
	// One table, a column per database, from the last run on each.
	const runs = (['pglite', 'postgres'] as const)
		.map((driver) => new URL(`bench-results/chaos-${driver}.json`, root))
		.filter((file) => existsSync(file))
		.map((file) => JSON.parse(readFileSync(file, 'utf8')) as typeof saved);
	const notes = runs.map((r) => `${r.driver === 'postgres' ? 'PostgreSQL' : 'PGlite'}: ${when(r)}`);
	writeTable('chaos', `\n${chaosTable(runs)}\n\n_${notes.join('; ')}. Fast Islands run the full protocol with a stand-in for the model (no inference); real ones run the demo model._\n`);
}
console.log(report.ok ? 'chaos: OK' : 'chaos: FAILED');
process.exit(report.ok ? 0 : 1);
