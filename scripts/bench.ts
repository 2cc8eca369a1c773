// `npm run bench`: runs every `bench:*` script of package.json, one after another, then
// writes one table (figure, goal, met?) with the machine and the date between the
// `<!-- bench:start -->` and `<!-- bench:end -->` markers of docs/benchmarks.md (each figure lives there only). Each benchmark
// writes bench-results/<name>.json; a benchmark that fails or writes nothing is listed as such.
//   npm run bench [-- --only dispatch,pipeline] [--no-readme] [--reuse (table from the last results, nothing run)]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { ensureBuild } from '../server/ensure-build.js';

const { values } = parseArgs({
	options: { only: { type: 'string' }, 'no-readme': { type: 'boolean', default: false }, reuse: { type: 'boolean', default: false } }
});
const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
// --only runs some; the table still lists every benchmark, the others as published (from bench-results/ only if never published).
const only = values.only?.split(',').map((s) => s.trim());
const benches = Object.keys(pkg.scripts)
	.filter((name) => name.startsWith('bench:'))
	.map((name) => name.slice('bench:'.length));

type Row = { bench: string; what: string; figure: string; goal: string; met: boolean | null; raw?: string };

/** The rows of `name` in the table docs/benchmarks.md has now (kept when it isn't re-run). */
function published(name: string): string[] {
	const text = existsSync(`${root}docs/benchmarks.md`) ? readFileSync(`${root}docs/benchmarks.md`, 'utf8') : '';
	return text.split('\n').filter((line) => line.startsWith(`| \`bench:${name}\` |`));
}

const ms = (n: number) => (n >= 100 ? `${n.toFixed(0)} ms` : `${n.toFixed(1)} ms`);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

/** A CPU-per-job row of bench:dispatch; none where that run did not measure it (null or absent). */
const cpuRow = (msPerJob: number | null | undefined, what: string): Row[] => (msPerJob == null ? [] : [{ bench: 'dispatch', what, figure: ms(msPerJob), goal: '—', met: null }]);

/** How each known benchmark's JSON becomes rows; the goals are the issues' own. */
const formatters: Record<string, (r: any) => Row[]> = {
	dispatch: (r) =>
		(r.results as any[]).flatMap((x) => [
			{
				bench: 'dispatch',
				what: `submit → claim latency, ${x.islands} Islands, ${x.jobs} jobs arriving at ${x.ratePerSecond}/s (${x.driver})`,
				figure: `p50 ${ms(x.paced.submitToClaimMs.p50)}, p99 ${ms(x.paced.submitToClaimMs.p99)}`,
				goal: 'p99 ≤ 10 ms',
				met: x.paced.submitToClaimMs.p99 <= 10
			},
			{
				bench: 'dispatch',
				what: `submit → claim latency, saturated by ${x.submitters} back-to-back submitters (${x.driver})`,
				figure: `p50 ${ms(x.saturated.submitToClaimMs.p50)}, p99 ${ms(x.saturated.submitToClaimMs.p99)}`,
				goal: '—',
				met: null
			},
			{
				bench: 'dispatch',
				what: `settled jobs per second, saturated (${x.driver})`,
				figure: `${x.saturated.settledPerSecond.toFixed(1)} /s`,
				goal: x.driver === 'postgres' ? '≥ 250 /s' : '≥ 150 /s',
				met: x.saturated.settledPerSecond >= (x.driver === 'postgres' ? 250 : 150)
			},
			{
				bench: 'dispatch',
				what: `POST /api/jobs, paced (${x.driver})`,
				figure: `p50 ${ms(x.paced.submitRequestMs.p50)}, p99 ${ms(x.paced.submitRequestMs.p99)}`,
				goal: 'p50 ≤ 3 ms',
				met: x.paced.submitRequestMs.p50 <= 3
			},
			...cpuRow(x.saturated.serverCpuMsPerJob, `server CPU per job, saturated (${x.driver}; the server process only)`),
			...cpuRow(x.saturated.postgresCpuMsPerJob, `PostgreSQL's CPU per job, saturated (its backends serving the server)`),
			...cpuRow(x.saturated.loadGeneratorCpuMsPerJob, `the load generator's CPU per job, saturated (${x.driver}; requesters and stand-in Islands, on the same cores)`),
			...(x.connectionResets === undefined
				? []
				: [
						{
							bench: 'dispatch',
							what: `connection resets and non-2xx answers, the warm-up and both phases, nothing retried (${x.driver}, ${(x.warmUpJobs ?? 0) + x.paced.jobs + x.saturated.jobs} jobs)`,
							figure: `${x.connectionResets} resets, ${Object.values(x.non2xx as Record<string, number>).reduce((a, b) => a + b, 0)} non-2xx`,
							goal: '0 and 0',
							met: x.connectionResets === 0 && x.otherNetworkErrors === 0 && Object.keys(x.non2xx).length === 0
						}
					])
		]),
	broker: (r) =>
		(r.results as any[]).map((x) => {
			const steps = Object.entries(x.steps as Record<string, { cpuMs: number; statements: number }>);
			return {
				bench: 'broker',
				what: `a job's steps in process, one after another, no HTTP (${x.driver}, ${x.jobs} jobs): CPU ms and statements each`,
				figure: `${ms(x.job.cpuMs)}, ${x.job.statements.toFixed(1)} statements: ${steps.map(([name, s]) => `${name} ${s.cpuMs.toFixed(1)} ms/${s.statements.toFixed(1)}`).join(', ')}`,
				goal: '—',
				met: null
			};
		}),
	longpoll: (r) => [
		{
			bench: 'longpoll',
			what: `${r.islands} Islands long-polling one instance (${r.driver}): server memory per waiting Island after a forced garbage collection (live heap and buffers; RSS) and descriptors`,
			figure: `${r.perWaitingIsland.liveKb.toFixed(0)} KB live (RSS ${r.perWaitingIsland.rssKb.toFixed(0)} KB), ${r.perWaitingIsland.fds.toFixed(2)} fd`,
			goal: 'reported',
			met: true
		},
		{
			bench: 'longpoll',
			what: `submit → claim with ${r.islands} waiters, ${r.jobs} jobs one at a time (${r.driver})`,
			figure: `p50 ${ms(r.wakeToClaimMs.p50)}, p99 ${ms(r.wakeToClaimMs.p99)}`,
			goal: 'reported',
			met: true
		}
	],
	abuse: (r) => {
		const p = r.phases;
		const load = (l: number[]) => `load ${l[0].toFixed(1)}`;
		return [
			{
				bench: 'abuse',
				what: `/api/health while one account asks for ${p.streams.attempts} event streams (${p.streams.held} held, ${(p.streams.statuses['429'] ?? 0)} refused 429; ${r.driver}, ${load(p.streams.loadavg)})`,
				figure: `p50 ${ms(p.streams.health.p50)}, p99 ${ms(p.streams.health.p99)}, ${p.streams.health.failures} failed`,
				goal: 'p99 ≤ 100 ms',
				met: p.streams.health.p99 <= 100 && p.streams.health.failures === 0
			},
			{
				bench: 'abuse',
				what: `/api/health while one address holds ${p.slow.attempts} half-sent requests (${p.slow.refused429} refused 429, ${p.slow.timedOut408} timed out; ${load(p.slow.loadavg)})`,
				figure: `p50 ${ms(p.slow.health.p50)}, p99 ${ms(p.slow.health.p99)}, ${p.slow.health.failures} failed`,
				goal: 'p99 ≤ 100 ms',
				met: p.slow.health.p99 <= 100 && p.slow.health.failures === 0
			}
		];
	},
	pipeline: (r) =>
		(r.rows as any[]).map((x) => ({
			bench: 'pipeline',
			what: `${r.model ?? 'demo'} model ${x.size} × ${x.steps} steps, onnxruntime-node`,
			figure: `${ms(x.msPerStep)}/step, ${ms(x.msPerImage)}/image; overhead ${x.overheadVsBare.toFixed(3)}× bare session.run`,
			goal: 'overhead ≤ 1.05×',
			met: x.overheadVsBare <= 1.05
		})),
	browser: (r) =>
		(r.rows as any[]).map((x) => ({
			bench: 'browser',
			what: `demo model ${x.size} × ${x.steps} steps, ${r.browserBackend} (${r.browserThreads} thread${r.browserThreads === 1 ? '' : 's'}) vs onnxruntime-node`,
			figure: `${ms(x.browserMsPerStep)} vs ${ms(x.nodeMsPerStep)} per step = ${x.ratio.toFixed(2)}×; images differ by ${x.meanAbsDiff.toExponential(1)} (mean abs)`,
			goal: '≤ 2×',
			met: x.ratio <= 2
		})),
	'image-js': (r) => [
		{
			bench: 'image-js',
			what: `initial JavaScript of /image (${r.files.length} files, gzip)`,
			figure: `${kb(r.gzipBytes)} (${kb(r.rawBytes)} raw)${r.inferenceRuntimeLoaded ? '; loads the inference runtime' : ''}`,
			goal: `≤ ${kb(r.budgetBytes)}, no inference runtime`,
			met: r.withinBudget && !r.inferenceRuntimeLoaded
		}
	]
};

if (!values.reuse) ensureBuild();
const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown CPU';
const load = loadavg()[0];
const rows: Row[] = [];
for (const name of benches) {
	const file = `${root}bench-results/${name}.json`;
	const started = Date.now();
	const reuse = values.reuse || (only !== undefined && !only.includes(name));
	if (!reuse) console.log(`\n=== npm run bench:${name}`);
	const run = reuse ? { status: 0 } : spawnSync('npm', ['run', `bench:${name}`], { cwd: root, stdio: 'inherit', env: process.env });
	const fresh = existsSync(file) && (reuse || statSync(file).mtimeMs >= started);
	// Not re-run by --only, or not re-run and its results aren't on this machine (bench-results/
	// isn't committed): the published rows stay as they are, with the date they were measured
	// on. With --only a local results file may be a partial, ad hoc run (one --driver, an A/B),
	// so it never replaces what was published.
	if (reuse && (only !== undefined || !fresh) && published(name).length) {
		rows.push(...published(name).map((raw) => ({ bench: name, what: '', figure: '', goal: '', met: null, raw })));
		continue;
	}
	if (run.status !== 0 || !fresh) {
		rows.push({ bench: name, what: `bench:${name}`, figure: `failed (exit ${run.status}${fresh ? '' : ', no results'})`, goal: '—', met: false });
		continue;
	}
	const result = JSON.parse(readFileSync(file, 'utf8'));
	const format = formatters[name];
	try {
		if (format) rows.push(...format(result));
		else rows.push({ bench: name, what: `bench:${name}`, figure: `see bench-results/${name}.json`, goal: '—', met: null });
	} catch (err) {
		rows.push({ bench: name, what: `bench:${name}`, figure: `unreadable results (${err instanceof Error ? err.message : err})`, goal: '—', met: false });
	}
}

const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
// When the rows kept from the published table were measured (the first date its header names).
const previousDate = /Measured (\d{4}-\d\d-\d\d \d\d:\d\d) UTC/.exec(existsSync(`${root}docs/benchmarks.md`) ? readFileSync(`${root}docs/benchmarks.md`, 'utf8') : '')?.[1];
const table = [
	`Measured ${date} UTC on ${cpus().length} cores (${cpuModel}), no GPU; load average ${load.toFixed(1)} when the run started${only ? ` (only ${only.join(', ')} re-run; the other rows are their last results: as published before${previousDate ? `, measured ${previousDate} UTC` : ''}, or dated in bench-results/)` : ''}. A shared machine: other people's test runs share the two cores, so figures vary from run to run.`,
	'',
	'| benchmark | what | figure | goal | met |',
	'|---|---|---|---|---|',
	...rows.map((r) => r.raw ?? `| \`bench:${r.bench}\` | ${r.what} | ${r.figure} | ${r.goal} | ${r.met === null ? '—' : r.met ? 'yes' : '**no**'} |`)
].join('\n');
console.log(`\n${table}\n`);

// Figures from a loaded machine measure the other work, not ours (a load of 1.9 made PGlite's
// dispatch 30–80× slower): such a run prints its table but doesn't publish it.
// At the start nothing else may run (half the cores); at the end the benchmark's own server and
// clients are most of the load (on 2 cores a quiet run ends near 1.8), so the limit is the cores.
const endLoad = loadavg()[0];
const busy = load > cpus().length / 2 || endLoad > cpus().length;
if (busy) console.warn(`Not writing docs/benchmarks.md: the machine was busy (load ${load.toFixed(1)} at the start, limit ${cpus().length / 2}; ${endLoad.toFixed(1)} at the end, limit ${cpus().length}).`);
if (!values['no-readme'] && !busy) {
	const readme = `${root}docs/benchmarks.md`;
	const text = readFileSync(readme, 'utf8');
	const start = '<!-- bench:start -->';
	const end = '<!-- bench:end -->';
	const i = text.indexOf(start);
	const j = text.indexOf(end);
	if (i < 0 || j < i) throw new Error(`docs/benchmarks.md has no ${start} … ${end} section`);
	writeFileSync(readme, `${text.slice(0, i + start.length)}\n${table}\n${text.slice(j)}`);
	console.log('docs/benchmarks.md table updated');
}
