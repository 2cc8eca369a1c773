// Escrow: an Island's earnings wait in its escrow account (ledger `island:<id>:escrow`) for
// TRUST_ESCROW_WINDOW_HOURS, the time spot checks have to catch a lie, and reach its owner's
// balance only if it is still in good standing then. A quarantined Island's escrow goes back to
// the platform, which pays the honest Islands that redo its work.
import { and, eq, inArray, lt, sql, type Placeholder } from 'drizzle-orm';
import type { Queryable } from '../db';
import { islands, jobs, users } from '../db/schema';
import { ledgerAccount, moveEscrow, OWNER_SHARE } from '../ledger';
import { trustConfig } from './config';
import { eqLiteral } from '../db/literal';
import { plannedEachTime } from '../db/prepared';

/** Where an Island's pay goes: a vouched Island's owner directly, anyone else's escrow. */
export function payeeOf(island: { id: string; userId: string; vouched: boolean }) {
	return island.vouched ? ledgerAccount.available(island.userId) : ledgerAccount.escrow(island.id);
}

/** What a job records of its pay: what it earned its Island, and whether that sits in escrow (a vouched Island is paid directly). */
export function payRecord(island: { vouched: boolean }, earned: number): { earned: number; escrow: 'held' | null } {
	return { earned, escrow: island.vouched || earned === 0 ? null : 'held' };
}

/**
 * payRecord as the result's UPDATE writes it, before the settlement: the owner's share of the
 * job's cost (what settleJob and payFromFees pay when its hold is intact), in escrow unless the
 * Island is vouched. The result compares it with what the settlement paid and writes it again
 * only when they differ (a hold already released, an Island vouched meanwhile), so a job's pay
 * costs no statement of its own.
 */
export function expectedPay(islandId: Placeholder) {
	const earned = sql`floor(${jobs.cost} * ${sql.raw(String(OWNER_SHARE))})::bigint`;
	const vouched = sql`(select ${islands.vouched} from ${islands} where ${islands.id} = ${islandId})`;
	return {
		earned: earned as unknown as number,
		escrow: sql`case when ${vouched} or ${earned} = 0 then null else 'held' end` as unknown as 'held' | null
	};
}

/**
 * Releases the escrow of trusted Islands' jobs older than the window; returns how many. An owner
 * whose verification was revoked meanwhile gets nothing yet: the earnings wait in escrow until
 * the owner is verified again (or are forfeited if the Island is caught).
 */
export async function releaseDueEscrow(tx: Queryable, limit = 500): Promise<number> {
	const due = await tx
		.select({ id: jobs.id, earned: jobs.earned, islandId: islands.id, ownerId: islands.userId })
		.from(jobs)
		.innerJoin(islands, eq(islands.id, jobs.islandId))
		.innerJoin(users, eq(users.id, islands.userId))
		.where(
			and(
				// A generic plan made on a new database loops over every Island for each due job.
				plannedEachTime(),
				eqLiteral(jobs.escrow, 'held'),
				eq(islands.trust, 'trusted'),
				eq(users.kycStatus, 'verified'),
				lt(jobs.finishedAt, sql`now() - ${trustConfig().escrowWindowMs} * interval '1 millisecond'`)
			)
		)
		.limit(limit)
		.for('update', { of: jobs, skipLocked: true });
	for (const job of due) {
		if (job.earned > 0) await moveEscrow(tx, 'release', job, job.islandId, job.ownerId);
		await tx.update(jobs).set({ escrow: 'released' }).where(eq(jobs.id, job.id));
	}
	return due.length;
}

/** Sends every escrowed earning of the Island back to the platform; returns the total. */
export async function forfeitEscrow(tx: Queryable, island: { id: string; userId: string }): Promise<number> {
	const held = await tx
		.update(jobs)
		.set({ escrow: 'forfeited' })
		.where(and(plannedEachTime(), eq(jobs.islandId, island.id), eqLiteral(jobs.escrow, 'held')))
		.returning({ id: jobs.id, earned: jobs.earned });
	let total = 0;
	for (const job of held) {
		if (job.earned > 0) await moveEscrow(tx, 'forfeit', job, island.id, island.userId);
		total += job.earned;
	}
	return total;
}

/** What the Island has waiting in escrow (its owner's /island page shows it). */
export async function escrowedBy(tx: Queryable, islandIds: string[]): Promise<Map<string, number>> {
	const out = new Map<string, number>();
	if (islandIds.length === 0) return out;
	const rows = await tx
		.select({ id: jobs.islandId, sum: sql<number>`coalesce(sum(${jobs.earned}), 0)`.mapWith(Number) })
		.from(jobs)
		.where(and(plannedEachTime(), eqLiteral(jobs.escrow, 'held'), inArray(jobs.islandId, islandIds)))
		.groupBy(jobs.islandId);
	for (const r of rows) if (r.id) out.set(r.id, r.sum);
	return out;
}
