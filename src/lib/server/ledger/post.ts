import { and, eq, gte, isNull, or, sql } from 'drizzle-orm';
import type { Queryable } from '../db';
import { ledgerAccounts, ledgerEntries, ledgerTransactions } from '../db/schema';
import { AccountClosedError, InsufficientCreditsError, ledgerAccount } from './accounts';

// Beta credits are minted from grants; verification work is paid from fees before any were earned.
const MAY_GO_NEGATIVE = new Set<string>([ledgerAccount.grants, ledgerAccount.fees]);

export type TransactionKind = (typeof ledgerTransactions.$inferInsert)['kind'];

export interface Posting {
	kind: TransactionKind;
	userId?: string | null;
	jobId?: string | null;
	memo?: string;
	entries: { accountId: string; amount: number }[];
}

/**
 * Writes one balanced transaction. Must run inside the caller's database transaction:
 * each balance moves by one guarded UPDATE, so a concurrent hold waits on the row lock and
 * re-checks the balance instead of overselling it.
 */
export async function postTransaction(tx: Queryable, posting: Posting): Promise<number> {
	const entries = posting.entries.filter((e) => e.amount !== 0);
	if (entries.length < 2) throw new Error('a ledger transaction needs at least two non-zero entries');
	if (entries.some((e) => !Number.isSafeInteger(e.amount))) throw new Error('ledger amounts are integers');
	if (entries.reduce((sum, e) => sum + e.amount, 0) !== 0) throw new Error('ledger entries must sum to 0');

	await tx
		.insert(ledgerAccounts)
		.values(entries.map((e) => ({ id: e.accountId, mayGoNegative: MAY_GO_NEGATIVE.has(e.accountId) ? 1 : 0 })))
		.onConflictDoNothing();

	// A fixed lock order keeps two transactions touching the same accounts from deadlocking.
	for (const entry of [...entries].sort((a, b) => a.accountId.localeCompare(b.accountId))) {
		const updated = await tx
			.update(ledgerAccounts)
			.set({ balance: sql`${ledgerAccounts.balance} + ${entry.amount}` })
			.where(
				and(
					eq(ledgerAccounts.id, entry.accountId),
					isNull(ledgerAccounts.closedAt),
					or(eq(ledgerAccounts.mayGoNegative, 1), gte(sql`${ledgerAccounts.balance} + ${entry.amount}`, 0))
				)
			)
			.returning({ id: ledgerAccounts.id });
		if (updated.length === 0) {
			// Only the refusal pays for telling a closed account from an empty one.
			const [closed] = await tx.select({ at: ledgerAccounts.closedAt }).from(ledgerAccounts).where(eq(ledgerAccounts.id, entry.accountId));
			if (closed?.at) throw new AccountClosedError(entry.accountId);
			throw new InsufficientCreditsError(entry.accountId, -entry.amount);
		}
	}

	const [row] = await tx
		.insert(ledgerTransactions)
		.values({ kind: posting.kind, userId: posting.userId ?? null, jobId: posting.jobId ?? null, memo: posting.memo ?? '' })
		.returning({ id: ledgerTransactions.id });
	await tx.insert(ledgerEntries).values(entries.map((e) => ({ transactionId: row.id, ...e })));
	return row.id;
}
