import { and, inArray, isNotNull, sql, type SQL } from 'drizzle-orm';
import type { Queryable } from '../db';
import { hotSql } from '../db/hot';
import { ledgerAccounts, type ledgerTransactions } from '../db/schema';
import { AccountClosedError, InsufficientCreditsError, isFeeAccount, ledgerAccount } from './accounts';

// Beta credits are minted from grants; verification work is paid from fees before any were earned.
const mayGoNegative = (accountId: string) => accountId === ledgerAccount.grants || isFeeAccount(accountId);

/** The posting's statement for `moves/entries` accounts and entries, built once per shape (db/hot.ts). */
const postingStatement = hotSql<string, Record<string, unknown>, { rows: Record<string, unknown>[] }>((shape) => {
	const [moves, entries] = shape.split('/').map(Number);
	const p = (name: string) => sql.placeholder(name);
	const list = (n: number, row: (i: number) => SQL) => sql.join(Array.from({ length: n }, (_, i) => row(i)), sql`, `);
	const moveRows = list(moves, (i) => sql`(${p(`a${i}`)}::text, ${p(`m${i}`)}::bigint, ${p(`n${i}`)}::int)`);
	const entryRows = list(entries, (i) => sql`(${p(`ea${i}`)}::text, ${p(`em${i}`)}::bigint)`);
	return sql`
		with m (account_id, amount, may_go_negative) as (values ${moveRows}),
		moved as (
			insert into ledger_accounts (id, balance, may_go_negative)
			select account_id, amount, may_go_negative from m
			-- A scalar subquery, not exists (…): looked up by the key per row, never one hashed scan of every
			-- account (what a generic plan of exists chose, db/generic-plans.test.ts).
			where may_go_negative = 1 or amount >= 0 or (select true from ledger_accounts a where a.id = m.account_id)
			order by account_id
			on conflict (id) do update set balance = ledger_accounts.balance + excluded.balance
			where ledger_accounts.closed_at is null
				and (ledger_accounts.may_go_negative = 1 or ledger_accounts.balance + excluded.balance >= 0)
			returning id
		),
		t as (
			insert into ledger_transactions (kind, user_id, job_id, memo)
			select ${p('kind')}, ${p('userId')}, ${p('jobId')}, ${p('memo')}
			where (select count(*) from moved) = ${moves}
			returning id
		),
		e (account_id, amount) as (values ${entryRows}),
		written as (insert into ledger_entries (transaction_id, account_id, amount) select t.id, e.account_id, e.amount from t, e)
		select (select id from t) as id, array(select id from moved) as moved`;
});

export type TransactionKind = (typeof ledgerTransactions.$inferInsert)['kind'];

export interface Posting {
	kind: TransactionKind;
	userId?: string | null;
	jobId?: string | null;
	memo?: string;
	entries: { accountId: string; amount: number }[];
}

/**
 * Writes one balanced transaction in one statement. Must run inside the caller's database
 * transaction, which a throw rolls back. Each balance moves by a guarded upsert: a concurrent
 * hold waits on the row lock and re-checks the balance instead of overselling it, and an
 * account that may not go negative can't be created negative. Only when every balance moved
 * are the transaction and its entries written; otherwise this throws InsufficientCreditsError,
 * or AccountClosedError for a deleted user's account.
 */
export async function postTransaction(tx: Queryable, posting: Posting): Promise<number> {
	const entries = posting.entries.filter((e) => e.amount !== 0);
	if (entries.length < 2) throw new Error('a ledger transaction needs at least two non-zero entries');
	if (entries.some((e) => !Number.isSafeInteger(e.amount))) throw new Error('ledger amounts are integers');
	if (entries.reduce((sum, e) => sum + e.amount, 0) !== 0) throw new Error('ledger entries must sum to 0');

	// One move per account (an upsert can't touch a row twice), in a fixed order: two
	// transactions touching the same accounts lock them in the same order and can't deadlock.
	const moves = new Map<string, number>();
	for (const e of entries) moves.set(e.accountId, (moves.get(e.accountId) ?? 0) + e.amount);
	const sorted = [...moves].filter(([, amount]) => amount !== 0).sort(([a], [b]) => a.localeCompare(b));
	if (sorted.length < 2) throw new Error('a ledger transaction moves at least two balances');
	const values: Record<string, unknown> = { kind: posting.kind, userId: posting.userId ?? null, jobId: posting.jobId ?? null, memo: posting.memo ?? '' };
	sorted.forEach(([id, amount], i) => Object.assign(values, { [`a${i}`]: id, [`m${i}`]: amount, [`n${i}`]: mayGoNegative(id) ? 1 : 0 }));
	entries.forEach((e, i) => Object.assign(values, { [`ea${i}`]: e.accountId, [`em${i}`]: e.amount }));
	const { rows: result } = await postingStatement(tx, `${sorted.length}/${entries.length}`, values);
	const { id, moved } = result[0] as { id: number | null; moved: string[] };
	if (id === null) {
		const refused = sorted.filter(([account]) => !moved.includes(account));
		// Only a refusal pays for telling a deleted user's (closed) account from a short balance.
		const [closed] = await tx
			.select({ id: ledgerAccounts.id })
			.from(ledgerAccounts)
			.where(and(inArray(ledgerAccounts.id, refused.map(([account]) => account)), isNotNull(ledgerAccounts.closedAt)));
		if (closed) throw new AccountClosedError(closed.id);
		throw new InsufficientCreditsError(refused[0][0], -refused[0][1]);
	}
	return Number(id);
}
