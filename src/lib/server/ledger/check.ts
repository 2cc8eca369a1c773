import { sql } from 'drizzle-orm';
import type { Queryable } from '../db';
import { PLANNED_EACH_TIME } from '../db/prepared';

export interface LedgerCheck {
	ok: boolean;
	checkedAt: string;
	totals: { entries: number; transactions: number; sum: number };
	problems: string[];
}

/**
 * The ledger's invariants (README, `src/lib/server/ledger/`): entries sum to 0 overall and per
 * transaction, cached balances equal their entries, no balance that may not go negative is
 * below 0, closed accounts hold nothing, at most one release per job, and every Island's escrow equals its held jobs' earnings. Each is one query, so the check stays cheap on a big ledger.
 */
export async function checkLedger(tx: Queryable): Promise<LedgerCheck> {
	const problems: string[] = [];
	// An audit reads its tables whole by design: planned each time, never a generic plan (db/prepared.ts).
	const q = async <T>(query: ReturnType<typeof sql>) => (await tx.execute(sql`${sql.raw(PLANNED_EACH_TIME)} ${query}`)).rows as T[];
	// Sums and balances are bigint: node-postgres hands them back as strings, PGlite as BigInt.
	const num = (v: unknown) => Number(v);

	const [raw] = await q<Record<'entries' | 'transactions' | 'sum', unknown>>(sql`
		select (select count(*) from ledger_entries) as entries,
		       (select count(*) from ledger_transactions) as transactions,
		       coalesce((select sum(amount) from ledger_entries), 0) as sum`);
	const totals = { entries: num(raw.entries), transactions: num(raw.transactions), sum: num(raw.sum) };
	if (totals.sum !== 0) problems.push(`all entries sum to ${totals.sum}, not 0`);

	const unbalanced = await q<{ id: number; sum: string }>(sql`
		select transaction_id as id, sum(amount)::text as sum from ledger_entries
		group by transaction_id having sum(amount) <> 0 or count(*) < 2 limit 20`);
	for (const t of unbalanced) problems.push(`transaction ${t.id} is unbalanced (sum ${t.sum})`);

	const drift = await q<{ id: string; cached: string; actual: string }>(sql`
		select a.id, a.balance::text as cached, coalesce(sum(e.amount), 0)::text as actual
		from ledger_accounts a left join ledger_entries e on e.account_id = a.id
		group by a.id having a.balance <> coalesce(sum(e.amount), 0) limit 20`);
	for (const d of drift) problems.push(`account ${d.id} caches ${d.cached} but its entries sum to ${d.actual}`);

	const negative = await q<{ id: string; balance: string }>(sql`
		select id, balance::text as balance from ledger_accounts where may_go_negative = 0 and balance < 0 limit 20`);
	for (const n of negative) problems.push(`account ${n.id} is negative (${n.balance})`);
	const closed = await q<{ id: string; balance: string }>(sql`
		select id, balance::text as balance from ledger_accounts where closed_at is not null and balance <> 0 limit 20`);
	for (const c of closed) problems.push(`closed account ${c.id} still holds ${c.balance}`);

	const doubled = await q<{ job_id: string; n: number }>(sql`
		select job_id, count(*)::int as n from ledger_transactions
		where job_id is not null and kind in ('settle', 'refund')
		group by job_id having count(*) > 1 limit 20`);
	for (const d of doubled) problems.push(`job ${d.job_id} was released ${d.n} times (settled and/or refunded)`);

	const escrowTwice = await q<{ job_id: string; n: number }>(sql`
		select job_id, count(*)::int as n from ledger_transactions
		where job_id is not null and kind in ('release', 'forfeit')
		group by job_id having count(*) > 1 limit 20`);
	for (const d of escrowTwice) problems.push(`job ${d.job_id}'s escrow was paid out ${d.n} times (released and/or forfeited)`);

	// An Island's escrow holds exactly the earnings of its jobs still marked held.
	const escrow = await q<{ id: string; balance: string; held: string }>(sql`
		select a.id, a.balance::text as balance, coalesce(h.sum, 0)::text as held
		from ledger_accounts a
		left join (select 'island:' || island_id || ':escrow' as id, sum(earned) as sum from jobs where escrow = 'held' group by island_id) h on h.id = a.id
		where a.id like 'island:%:escrow' and a.balance <> coalesce(h.sum, 0) limit 20`);
	for (const e of escrow) problems.push(`escrow ${e.id} holds ${e.balance} but its held jobs earned ${e.held}`);

	return { ok: problems.length === 0, checkedAt: new Date().toISOString(), totals, problems };
}
