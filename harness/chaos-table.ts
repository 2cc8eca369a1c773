// The chaos runs' tables for docs/testing.md: the run without liars (a column per database)
// and the runs with liars (a column per run), each between its markers.
import type { ChaosReport } from './chaos';

const dbName = (r: ChaosReport) => (r.driver === 'postgres' ? 'PostgreSQL' : 'PGlite');
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function markdown<R extends ChaosReport>(header: string[], rows: [string, (r: R) => string][], reports: R[]) {
	return [
		`| ${header.join(' | ')} |`,
		`|---|${reports.map(() => '---|').join('')}`,
		...rows.map(([label, cell]) => `| ${label} | ${reports.map(cell).join(' | ')} |`)
	].join('\n');
}

/** Reports (one per database) as one markdown table for docs/testing.md. */
export function chaosTable(reports: ChaosReport[]): string {
	const rows: [string, (r: ChaosReport) => string][] = [
		['jobs submitted (several verified requesters, random sizes and steps)', (r) => String(r.jobs.submitted)],
		['completed / failed / **lost**', (r) => `${r.jobs.completed} / ${r.jobs.failed} / **${r.jobs.lost}**`],
		['Islands (fast + real inference)', (r) => `${r.islands.fast} + ${r.islands.real} (real ones did ${r.islands.jobsByReal} jobs)`],
		['Islands SIGKILLed mid-job', (r) => String(r.islands.killed)],
		['broker restarts', (r) => r.restarts.map((x) => x.replace(/, back in (\d+) ms/, (_, n) => ` (down ${(Number(n) / 1000).toFixed(0)} s)`)).join('; ')],
		['jobs that lost a lease and ran again', (r) => `${r.attempts.requeued} (most attempts: ${r.attempts.max})`],
		['settlements + refunds per job', (r) => `≤ ${r.charges.maxReleasesPerJob}`],
		['ledger check, sum of all entries', (r) => `${r.ledger.ok ? 'ok' : 'PROBLEMS'}, ${r.ledger.sum} (${r.ledger.entries} entries)`],
		['requesters charged = cost of completed jobs', (r) => `${r.balances.spent} = ${r.balances.expectedSpent}, held ${r.balances.held}`],
		['Island owners earned (escrow + available) = 80 % (floor) of each run', (r) => `${r.balances.earned} = ${r.balances.expectedEarned}`],
		['valid PNGs of the requested size', (r) => `${r.pngs.valid} / ${r.pngs.checked}`],
		['duration', (r) => `${(r.durationMs / 1000).toFixed(0)} s`]
	];
	return markdown(['chaos run', ...reports.map(dbName)], rows, reports);
}

export interface LiarRun extends ChaosReport {
	label: string;
	load: number;
}

/** What drew the wrong pictures left, e.g. " (1: confirmed, drawn by a liar Island's user run)". */
function whence(r: ChaosReport): string {
	const counts = new Map<string, number>();
	for (const d of r.trust!.wrongDetail) counts.set(d, (counts.get(d) ?? 0) + 1);
	return counts.size ? ` (${[...counts].map(([d, n]) => `${n}: ${d}`).join('; ')})` : '';
}

/** Runs with liars, a column each: what got through, false flags and the cost of checking. */
export function liarsTable(runs: LiarRun[]): string {
	const trust = (r: ChaosReport) => r.trust!;
	const rate = (r: ChaosReport, name: string, fallback: number) => Number(trust(r).env[name] ?? fallback);
	const rows: [string, (r: LiarRun) => string][] = [
		['spot-check rate: Islands < 14 days old / older', (r) => `${pct(rate(r, 'TRUST_NEW_ISLAND_SPOT_CHECK_RATE', 0.1))} / ${pct(rate(r, 'TRUST_SPOT_CHECK_RATE', 0.05))}`],
		['fast Islands: vouched reference + liars + honest', (r) => `${r.islands.fast}: 1 + ${trust(r).liars.length} + ${r.islands.fast - 1 - trust(r).liars.length}`],
		['honest Islands', (r) => (r.established ? 'trusted for 30 days (the liars join an established network)' : 'new, like the liars (all on probation, then checked at the first weeks\' rate)')],
		['jobs submitted / completed / failed / **lost**', (r) => `${r.jobs.submitted} / ${r.jobs.completed} / ${r.jobs.failed} / **${r.jobs.lost}**`],
		['Islands SIGKILLed mid-job, broker restarts', (r) => `${r.islands.killed}, ${r.restarts.length}`],
		['requesters\' jobs done by the reference / liars / honest Islands', (r) => `${trust(r).servedBy.reference} / ${trust(r).servedBy.liar} / ${trust(r).servedBy.honest}`],
		['liars caught', (r) => `${trust(r).liars.filter((l) => l.caught).length} / ${trust(r).liars.length}`],
		['requesters\' jobs each liar completed before it was caught', (r) => trust(r).liars.map((l) => (l.caught ? String(l.jobsBeforeCaught) : `not caught (${l.jobsBeforeCaught})`)).join(', ')],
		['wrong pictures each liar drew (any job kind)', (r) => trust(r).liars.map((l) => String(l.lies)).join(', ')],
		['**wrong pictures still shown to requesters** (goal 0)', (r) => `**${trust(r).wrongVisible}** of ${r.jobs.completed}${whence(r)}`],
		['requesters\' pictures redrawn / confirmed by a check', (r) => `${trust(r).verification.replaced ?? 0} / ${trust(r).verification.confirmed ?? 0}`],
		['**false flags**: honest Islands quarantined, honest pictures judged different (goal 0)', (r) => `**${trust(r).falseFlags.honestQuarantined}, ${trust(r).falseFlags.honestVsHonest}**`],
		['honest pictures a lying checker disputed (settled by a third run)', (r) => String(trust(r).falseFlags.byLyingChecker)],
		['**extra compute on verification**: reference + canary + check runs / requesters\' runs (goal ≤ 10 %)', (r) => {
			const x = trust(r).extra;
			return `**${pct(x.share)}**: ${x.reference} + ${x.canary} + ${x.check} / ${x.user} (${pct(x.workShare)} of pixel·steps)`;
		}],
		['redrawing the caught liars\' unconfirmed results: reruns / requesters\' runs', (r) => {
			const x = trust(r).extra;
			return `${pct(x.redrawShare)}: ${x.rerun} (${pct(x.redrawWorkShare)} of pixel·steps)`;
		}],
		['still being checked when the wait ended', (r) => String(trust(r).pendingAtEnd)],
		['ledger check, sum; settlements + refunds per job', (r) => `${r.ledger.ok ? 'ok' : 'PROBLEMS'}, ${r.ledger.sum}; ≤ ${r.charges.maxReleasesPerJob}`],
		['requesters charged = cost of completed jobs', (r) => `${r.balances.spent} = ${r.balances.expectedSpent}, held ${r.balances.held}`],
		['owners\' escrow + available = 80 % of their Islands\' runs; liars forfeited', (r) => `${r.balances.earned} = ${r.balances.expectedEarned}; ${r.balances.forfeited}`],
		['valid PNGs of the requested size', (r) => `${r.pngs.valid} / ${r.pngs.checked}`],
		['duration (load average at the end)', (r) => `${(r.durationMs / 1000).toFixed(0)} s (${r.load.toFixed(1)})`]
	];
	return markdown(['chaos run with liars', ...runs.map((r) => `${dbName(r)}, ${r.label}`)], rows, runs);
}
