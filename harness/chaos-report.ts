// What a chaos run (harness/chaos.ts) reports once its jobs have ended: every completed job's
// image checked, each requester's balance against its completed jobs, each job's settlements
// and refunds read from the database, and whether all of it holds.
import { checkPng } from '../src/lib/server/jobs/png-check';
import type { ApiClient } from './client';
import { isHonestPicture } from './chaos-picture';
import { pool, type Tracked } from './chaos-load';
import type { TrustReport } from './chaos-trust';
import type { Driver } from './postgres';

export interface ChaosReport {
	driver: Driver;
	jobs: { submitted: number; refusedAtSubmit: number; completed: number; failed: number; cancelled: number; lost: number };
	islands: { fast: number; real: number; killed: number; jobsByReal: number };
	restarts: string[];
	charges: { maxSettlementsPerJob: number; maxReleasesPerJob: number; completedWithoutSettlement: number; failedWithoutRefund: number };
	ledger: { ok: boolean; sum: number; entries: number; transactions: number; problems: string[] };
	balances: { requestersMatch: boolean; ownersMatch: boolean; spent: number; expectedSpent: number; earned: number; expectedEarned: number; forfeited: number; held: number };
	pngs: { checked: number; valid: number; problems: string[] };
	attempts: { max: number; requeued: number };
	trust: TrustReport | null;
	/** With trust: whether the honest Islands were established (ChaosOptions.established). */
	established: boolean;
	durationMs: number;
	ok: boolean;
}

/** Settlements and refunds per job, read from the database itself once the broker is down. */
export const PER_JOB = `select j.id, j.status, j.attempts,
	count(t.id) filter (where t.kind = 'settle')::int as settles,
	count(t.id) filter (where t.kind = 'refund')::int as refunds
	from jobs j left join ledger_transactions t on t.job_id = j.id group by j.id, j.status, j.attempts`;
export type PerJob = { id: string; status: string; attempts: number; settles: number; refunds: number };

/**
 * Every completed job's image: a valid PNG of the requested size, from its owner, and with
 * trust the honest picture (the fast Islands' is known: harness/chaos-picture.ts); `wrong`
 * lists the jobs whose valid PNG is not.
 */
export async function checkImages(completed: Tracked[], requesters: ApiClient[], trust: boolean) {
	const pngProblems: string[] = [];
	let valid = 0;
	const wrong: string[] = [];
	await pool(completed, 4, async (t) => {
		const res = t.imageUrl ? await requesters[t.user].request('GET', t.imageUrl) : null;
		if (!res || res.status !== 200) {
			pngProblems.push(`${t.id}: image ${res?.status ?? 'missing'}`);
			return;
		}
		const bytes = new Uint8Array(await res.arrayBuffer());
		const check = checkPng(bytes, { width: t.width, height: t.height });
		if (trust && check.ok && !isHonestPicture(bytes, t)) wrong.push(t.id);
		if (check.ok) valid++;
		else pngProblems.push(`${t.id}: ${check.reason}`);
	});
	return { pngProblems, valid, wrong };
}

/** Each requester's balance against what it `purchased` less its completed jobs, nothing left held. */
export async function checkRequesterBalances(requesters: ApiClient[], purchased: number[], completed: Tracked[]) {
	let requestersMatch = true;
	let spent = 0;
	let held = 0;
	const expectedSpent = completed.reduce((s, t) => s + t.cost, 0);
	for (let u = 0; u < requesters.length; u++) {
		const b = (await requesters[u].json('GET', '/api/me')).body.balance;
		const cost = completed.filter((t) => t.user === u).reduce((s, t) => s + t.cost, 0);
		if (b.available !== purchased[u] - cost || b.held !== 0) requestersMatch = false;
		spent += purchased[u] - b.available - b.held;
		held += b.held;
	}
	return { requestersMatch, spent, held, expectedSpent };
}

/** The run passed: no job lost, each charged at most once, the ledger balanced, balances and images right, no honest Island flagged. */
export function chaosPassed(report: ChaosReport, jobs: number): boolean {
	return (
		report.jobs.lost === 0 &&
		report.jobs.submitted === jobs &&
		report.jobs.completed + report.jobs.failed === report.jobs.submitted &&
		report.charges.maxReleasesPerJob <= 1 &&
		report.charges.completedWithoutSettlement === 0 &&
		report.charges.failedWithoutRefund === 0 &&
		report.ledger.ok &&
		report.ledger.sum === 0 &&
		report.balances.requestersMatch &&
		report.balances.ownersMatch &&
		report.pngs.valid === report.pngs.checked &&
		(report.trust === null || report.trust.falseFlags.honestQuarantined + report.trust.falseFlags.honestVsHonest === 0)
	);
}
