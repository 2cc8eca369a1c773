import { and, inArray, isNotNull, sql, type SQL } from 'drizzle-orm';
import type { Queryable } from '../db';
import { ledgerAccounts, type ledgerTransactions } from '../db/schema';
import { AccountClosedError, InsufficientCreditsError, isFeeAccount, ledgerAccount } from './accounts';

// Beta credits are minted from grants; verification work is paid from fees before any were earned.
const mayGoNegative = (accountId: string) => accountId === ledgerAccount.grants || isFeeAccount(accountId);

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
	const rows = (list: SQL[]) => sql.join(list, sql`, `);
	const moveRows = rows(sorted.map(([id, amount]) => sql`(${id}::text, ${amount}::bigint, ${mayGoNegative(id) ? 1 : 0}::int)`));
	const entryRows = rows(entries.map((e) => sql`(${e.accountId}::text, ${e.amount}::bigint)`));
	const { rows: result } = await tx.execute(sql`
		with m (account_id, amount, may_go_negative) as (values ${moveRows}),
		moved as (
			insert into ledger_accounts (id, balance, may_go_negative)
			select account_id, amount, may_go_negative from m
			where may_go_negative = 1 or amount >= 0 or exists (select 1 from ledger_accounts a where a.id = m.account_id)
			order by account_id
			on conflict (id) do update set balance = ledger_accounts.balance + excluded.balance
			where ledger_accounts.closed_at is null
				and (ledger_accounts.may_go_negative = 1 or ledger_accounts.balance + excluded.balance >= 0)
			returning id
		),
		t as (
			insert into ledger_transactions (kind, user_id, job_id, memo)
			select ${posting.kind}, ${posting.userId ?? null}, ${posting.jobId ?? null}, ${posting.memo ?? ''}
			where (select count(*) from moved) = ${sorted.length}
			returning id
		),
		e (account_id, amount) as (values ${entryRows}),
		written as (insert into ledger_entries (transaction_id, account_id, amount) select t.id, e.account_id, e.amount from t, e)
		select (select id from t) as id, array(select id from moved) as moved`);
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
