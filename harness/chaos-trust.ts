// Island trust in the chaos run (`npm run chaos -- --liars N`): the broker's environment with
// trust at the product's defaults, the admin's vouch for the reference Island, the wait for
// spot checks and reruns to settle, and what the database says at the end: how many jobs each
// liar got away with, false flags against honest Islands, and the compute spent on verifying.
import { BROKER_ENV, TRUST_OFF } from './broker';
import type { ApiClient } from './client';

export type Role = 'honest' | 'liar' | 'reference';

/**
 * BROKER_ENV as is (trust off: every Island trusted from the start, nothing spot-checked), or
 * with trust on at the product's defaults and `overrides` on top.
 */
export function brokerEnv(trust: boolean, overrides: Record<string, string> = {}): Record<string, string> {
	const env: Record<string, string> = { ...BROKER_ENV };
	if (trust) for (const key of Object.keys(TRUST_OFF)) delete env[key];
	return { ...env, ...(trust ? overrides : {}) };
}

/** A requester's job whose verification can still change its picture. */
export const PENDING_VERIFICATION = new Set(['checking', 'disputed', 'redoing']);

/**
 * Waits (at most `timeoutMs`) until no completed job is being checked or redrawn, so the wrong
 * pictures are counted once the broker has done what it will. `refresh` re-reads every
 * completed job; returns how many were still pending when the wait ended.
 */
export async function awaitVerification(refresh: () => Promise<{ verification?: string }[]>, timeoutMs: number, log: (m: string) => void): Promise<number> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const pending = (await refresh()).filter((t) => PENDING_VERIFICATION.has(t.verification ?? '')).length;
		if (pending === 0 || Date.now() > deadline) return pending;
		log(`${pending} completed job(s) still being checked or redrawn`);
		await new Promise((r) => setTimeout(r, 1000));
	}
}

/**
 * The statement that makes these Islands established: registered 30 days ago and trusted since
 * (their canaries long passed), so past the first weeks' higher spot-check rate.
 */
export function establish(ids: string[]): Record<string, string> {
	if (!ids.every((id) => /^[0-9a-f-]{36}$/.test(id))) throw new Error('establish: not Island ids');
	const list = ids.map((id) => `'${id}'`).join(', ') || 'null';
	return {
		established: `update islands set created_at = now() - interval '30 days', trusted_at = now() - interval '29 days',
			trust = 'trusted', canaries_passed = 3 where id in (${list})`
	};
}

/** What chaos.ts reads from the database for owners' earnings and the trust report. */
export const TRUST_QUERIES = {
	islands: `select id, user_id, trust, vouched, quarantine_reason from islands`,
	// Requesters' jobs each Island completed, and how many of them before it was quarantined.
	served: `select j.island_id, count(*)::int as done,
		count(*) filter (where i.quarantined_at is not null and j.finished_at <= i.quarantined_at)::int as before
		from jobs j join islands i on i.id = j.island_id where j.kind = 'user' and j.status = 'completed' group by j.island_id`,
	// Completed runs by Island and kind: 80 % (floor) of each was paid, and pixel-steps of work.
	runs: `select island_id, kind, count(*)::int as n, sum(cost * 4 / 5)::int as pay,
		sum(pixels::bigint * (params->>'steps')::int)::float8 as work
		from jobs where status = 'completed' and island_id is not null group by island_id, kind`,
	checks: `select island_id, other_island_id, same from trust_checks`,
	accounts: `select id, balance::float8 as balance from ledger_accounts where id like 'island:%' or id like 'user:%:available'`,
	verification: `select verification, count(*)::int as n from jobs where kind = 'user' and status = 'completed' group by verification`,
	// Which run drew the picture each requester's job shows now (its own, a check's, a rerun's).
	drawnBy: `select j.id, j.verification, d.kind, d.island_id from jobs j join images img on img.id = j.image_id
		left join jobs d on d.id = img.job_id where j.kind = 'user' and j.status = 'completed'`
};
export type TrustRows = { [K in keyof typeof TRUST_QUERIES]: Record<string, unknown>[] };

/**
 * Owners' earnings: each owner's available balance plus its Islands' escrow accounts (nothing
 * is released within a run, the window being days), against 80 % (floor) of every run its
 * Islands completed, requesters' jobs and paid verification work alike, and nothing for a
 * quarantined Island, whose escrow went back to the platform.
 */
export function ownersEarnings(rows: TrustRows) {
	const balance = new Map(rows.accounts.map((a) => [String(a.id), Number(a.balance)]));
	const islands = rows.islands.map((i) => ({ id: String(i.id), owner: String(i.user_id), quarantined: i.trust === 'quarantined' }));
	const owners = new Set(islands.map((i) => i.owner));
	let earned = 0;
	for (const o of owners) earned += balance.get(`user:${o}:available`) ?? 0;
	for (const i of islands) earned += balance.get(`island:${i.id}:escrow`) ?? 0;
	const quarantined = new Set(islands.filter((i) => i.quarantined).map((i) => i.id));
	const expectedEarned = rows.runs.filter((r) => !quarantined.has(String(r.island_id))).reduce((s, r) => s + Number(r.pay), 0);
	const forfeited = rows.runs.filter((r) => quarantined.has(String(r.island_id))).reduce((s, r) => s + Number(r.pay), 0);
	return { earned, expectedEarned, forfeited };
}

export interface LiarOutcome {
	/** Requesters' jobs it completed before it was quarantined, or in all when it never was. */
	jobsBeforeCaught: number;
	caught: boolean;
	lies: number;
	reason: string | null;
}

export interface TrustReport {
	liars: LiarOutcome[];
	/** Requesters' jobs completed by the reference Island, the liars and the honest ones. */
	servedBy: Record<Role, number>;
	/** Requesters' completed jobs whose picture at the end is not the honest one (goal 0). */
	wrongVisible: number;
	/** For each: its verification state, and which run of which Island drew what it shows. */
	wrongDetail: string[];
	/** Still being checked or redrawn when the bounded wait ended. */
	pendingAtEnd: number;
	verification: Record<string, number>;
	falseFlags: { honestQuarantined: number; honestVsHonest: number; byLyingChecker: number };
	/**
	 * Completed runs of each kind. Verifying (reference, canary, check runs) and redrawing a caught
	 * liar's unconfirmed results (rerun) as shares of requesters' runs, and of their pixel·steps.
	 */
	extra: { canary: number; reference: number; check: number; rerun: number; user: number; share: number; workShare: number; redrawShare: number; redrawWorkShare: number };
	env: Record<string, string>;
}

export function trustReport(rows: TrustRows, islands: { id: string; role: Role; lies: number }[], wrong: string[], pendingAtEnd: number, env: Record<string, string>): TrustReport {
	const roles = new Map(islands.map((i) => [i.id, i.role]));
	const lies = new Map(islands.map((i) => [i.id, i.lies]));
	const isLiar = (id: unknown) => roles.get(String(id)) === 'liar';
	const served = new Map(rows.served.map((s) => [String(s.island_id), { done: Number(s.done), before: Number(s.before) }]));
	const liars = rows.islands
		.filter((i) => isLiar(i.id))
		.map((i): LiarOutcome => {
			const s = served.get(String(i.id)) ?? { done: 0, before: 0 };
			const caught = i.trust === 'quarantined';
			return { caught, jobsBeforeCaught: caught ? s.before : s.done, lies: lies.get(String(i.id)) ?? 0, reason: (i.quarantine_reason as string | null) ?? null };
		});
	// A different picture from an honest Island: a false flag when the other side was honest
	// too (or a canary's stored answer); when a liar checked it, the liar's doing, settled by a third run.
	const against = rows.checks.filter((c) => c.same === false && !isLiar(c.island_id));
	const runs = (kind: string) => rows.runs.filter((r) => r.kind === kind).reduce((s, r) => s + Number(r.n), 0);
	const work = (kinds: string[]) => rows.runs.filter((r) => kinds.includes(String(r.kind))).reduce((s, r) => s + Number(r.work), 0);
	const extra = { canary: runs('canary'), reference: runs('reference'), check: runs('check'), rerun: runs('rerun'), user: runs('user') };
	const verifying = ['canary', 'reference', 'check'];
	const servedBy: Record<Role, number> = { reference: 0, liar: 0, honest: 0 };
	for (const s of rows.served) servedBy[roles.get(String(s.island_id)) ?? 'honest'] += Number(s.done);
	const drawnBy = new Map(rows.drawnBy.map((d) => [String(d.id), d]));
	const wrongDetail = wrong.map((id) => {
		const d = drawnBy.get(id);
		return d ? `${d.verification}, drawn by a ${roles.get(String(d.island_id)) ?? 'unknown'} Island's ${d.kind} run` : `${id}: no image row`;
	});
	return {
		liars,
		servedBy,
		wrongVisible: wrong.length,
		wrongDetail,
		pendingAtEnd,
		verification: Object.fromEntries(rows.verification.map((v) => [String(v.verification), Number(v.n)])),
		falseFlags: {
			honestQuarantined: rows.islands.filter((i) => i.trust === 'quarantined' && !isLiar(i.id)).length,
			honestVsHonest: against.filter((c) => !isLiar(c.other_island_id)).length,
			byLyingChecker: against.filter((c) => isLiar(c.other_island_id)).length
		},
		extra: {
			...extra,
			share: (extra.canary + extra.reference + extra.check) / Math.max(1, extra.user),
			workShare: work(verifying) / Math.max(1, work(['user'])),
			redrawShare: extra.rerun / Math.max(1, extra.user),
			redrawWorkShare: work(['rerun']) / Math.max(1, work(['user']))
		},
		env
	};
}

/**
 * Waits (at most `timeoutMs`) until these Islands are out of probation; returns how many are
 * still on it. Requesters submit only then: the reference Island runs the canaries' reference
 * jobs in queue order, after every requester's job queued before them, so jobs submitted at
 * once would all go to it while the others wait for their canaries.
 */
export async function awaitProbation(islands: { owner: ApiClient; id: string }[], timeoutMs: number): Promise<number> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		let waiting = 0;
		for (const { owner, id } of islands) {
			const view = (await owner.json('GET', '/api/islands')).body.islands.find((i: { id: string }) => i.id === id);
			if (view?.trust === 'probation') waiting++;
		}
		if (waiting === 0 || Date.now() > deadline) return waiting;
		await new Promise((r) => setTimeout(r, 500));
	}
}
