import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../db';
import { ledgerAccounts, ledgerEntries, ledgerTransactions } from '../db/schema';
import { ledgerAccount, OWNER_SHARE } from './accounts';
import { postTransaction } from './post';
import { hotStatement } from '../db/hot';

export { AccountClosedError, InsufficientCreditsError, ledgerAccount, OWNER_SHARE } from './accounts';
export { checkLedger, type LedgerCheck } from './check';

/** Beta: credits are minted from platform:grants; no payment is taken. */
export function purchase(tx: Queryable, userId: string, credits: number, memo: string) {
	return postTransaction(tx, {
		kind: 'purchase',
		userId,
		memo,
		entries: [
			{ accountId: ledgerAccount.grants, amount: -credits },
			{ accountId: ledgerAccount.available(userId), amount: credits }
		]
	});
}

/** Throws InsufficientCreditsError when the available balance can't cover the cost. */
export function holdForJob(tx: Queryable, userId: string, jobId: string, cost: number) {
	return postTransaction(tx, {
		kind: 'hold',
		userId,
		jobId,
		entries: [
			{ accountId: ledgerAccount.available(userId), amount: -cost },
			{ accountId: ledgerAccount.held(userId), amount: cost }
		]
	});
}

/** One statement: the job's transactions, each with its entry on the requester's held account. */
const jobHoldings = hotStatement((db) =>
	db
		.select({ kind: ledgerTransactions.kind, userId: ledgerTransactions.userId, amount: ledgerEntries.amount })
		.from(ledgerTransactions)
		.leftJoin(
			ledgerEntries,
			// ledgerAccount.held(user_id), spelled in SQL.
			and(eq(ledgerEntries.transactionId, ledgerTransactions.id), eq(ledgerEntries.accountId, sql`'user:' || ${ledgerTransactions.userId} || ':held'`))
		)
		.where(eq(ledgerTransactions.jobId, sql.placeholder('jobId')))
);

/** What the job's hold put in its requester's held account, unless already refunded or settled. */
async function heldFor(tx: Queryable, jobId: string) {
	const rows = await jobHoldings(tx, { jobId });
	const hold = rows.find((r) => r.kind === 'hold');
	if (!hold?.userId) return null;
	if (rows.some((r) => r.kind === 'refund' || r.kind === 'settle')) return null;
	return { userId: hold.userId, amount: hold.amount ?? 0 };
}

/** Returns the refunded amount; 0 when the job's hold was already released. */
export async function refundJob(tx: Queryable, jobId: string): Promise<number> {
	const held = await heldFor(tx, jobId);
	if (!held || held.amount <= 0) return 0;
	await postTransaction(tx, {
		kind: 'refund',
		userId: held.userId,
		jobId,
		entries: [
			{ accountId: ledgerAccount.held(held.userId), amount: -held.amount },
			{ accountId: ledgerAccount.available(held.userId), amount: held.amount }
		]
	});
	return held.amount;
}

/**
 * Charges the requester and pays `payee` the owner's share (an Island's escrow, or a vouched
 * Island's owner directly); null when the hold was already released.
 */
export async function settleJob(tx: Queryable, jobId: string, payee: string) {
	const held = await heldFor(tx, jobId);
	if (!held || held.amount <= 0) return null;
	const earned = Math.floor(held.amount * OWNER_SHARE);
	await postTransaction(tx, {
		kind: 'settle',
		userId: held.userId,
		jobId,
		entries: [
			{ accountId: ledgerAccount.held(held.userId), amount: -held.amount },
			{ accountId: payee, amount: earned },
			{ accountId: ledgerAccount.fees(jobId), amount: held.amount - earned }
		]
	});
	return { charged: held.amount, earned, fee: held.amount - earned };
}

/** The platform pays for its own work (a canary, a reference, a check, a rerun) from its fees. */
export async function payFromFees(tx: Queryable, jobId: string, cost: number, payee: string) {
	const earned = Math.floor(cost * OWNER_SHARE);
	if (earned <= 0) return { earned: 0 };
	await postTransaction(tx, {
		kind: 'settle',
		jobId,
		memo: 'verification work',
		entries: [
			{ accountId: ledgerAccount.fees(jobId), amount: -earned },
			{ accountId: payee, amount: earned }
		]
	});
	return { earned };
}

/** Moves one job's escrowed earnings on: to the owner (release) or back to the platform (forfeit). */
export function moveEscrow(tx: Queryable, kind: 'release' | 'forfeit', job: { id: string; earned: number }, islandId: string, ownerId: string) {
	return postTransaction(tx, {
		kind,
		userId: ownerId,
		jobId: job.id,
		entries: [
			{ accountId: ledgerAccount.escrow(islandId), amount: -job.earned },
			{ accountId: kind === 'release' ? ledgerAccount.available(ownerId) : ledgerAccount.forfeits, amount: job.earned }
		]
	});
}

/**
 * A deleted user's accounts: whatever is left available goes back to platform:grants (beta
 * credits are minted there and are worth nothing outside the platform) in one balanced `close`
 * transaction, then both accounts are marked closed. Their entries stay: the ledger's history
 * is never rewritten. Runs after the user's jobs were cancelled and refunded, so held is 0.
 */
export async function closeUserAccounts(tx: Queryable, userId: string): Promise<number> {
	const ids = [ledgerAccount.available(userId), ledgerAccount.held(userId)];
	const rows = await tx.select().from(ledgerAccounts).where(inArray(ledgerAccounts.id, ids)).for('update');
	const held = rows.find((r) => r.id === ids[1])?.balance ?? 0;
	if (held !== 0) throw new Error(`account ${ids[1]} still holds ${held}: cancel the user's jobs first`);
	const left = rows.find((r) => r.id === ids[0])?.balance ?? 0;
	if (left > 0) {
		await postTransaction(tx, {
			kind: 'close',
			userId,
			memo: 'account deleted: remaining credits returned to the platform',
			entries: [
				{ accountId: ids[0], amount: -left },
				{ accountId: ledgerAccount.grants, amount: left }
			]
		});
	}
	await tx.update(ledgerAccounts).set({ closedAt: sql`now()` }).where(inArray(ledgerAccounts.id, ids));
	return left;
}

export async function getBalances(tx: Queryable, userId: string) {
	const ids = [ledgerAccount.available(userId), ledgerAccount.held(userId)];
	const rows = await tx.select().from(ledgerAccounts).where(inArray(ledgerAccounts.id, ids));
	const of = (id: string) => rows.find((r) => r.id === id)?.balance ?? 0;
	return { available: of(ids[0]), held: of(ids[1]) };
}

/** The user's recent movements, each with its net effect on their available and held balances. */
export async function recentMovements(tx: Queryable, userId: string, limit = 20) {
	const mine = [ledgerAccount.available(userId), ledgerAccount.held(userId)];
	const rows = await tx
		.select({
			id: ledgerTransactions.id,
			kind: ledgerTransactions.kind,
			jobId: ledgerTransactions.jobId,
			memo: ledgerTransactions.memo,
			createdAt: ledgerTransactions.createdAt,
			available: sql<number>`coalesce(sum(${ledgerEntries.amount}) filter (where ${ledgerEntries.accountId} = ${mine[0]}), 0)`.mapWith(Number),
			held: sql<number>`coalesce(sum(${ledgerEntries.amount}) filter (where ${ledgerEntries.accountId} = ${mine[1]}), 0)`.mapWith(Number)
		})
		.from(ledgerEntries)
		.innerJoin(ledgerTransactions, eq(ledgerEntries.transactionId, ledgerTransactions.id))
		.where(inArray(ledgerEntries.accountId, mine))
		.groupBy(ledgerTransactions.id)
		.orderBy(desc(ledgerTransactions.id))
		.limit(limit);
	return rows;
}
