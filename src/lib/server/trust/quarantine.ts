// Quarantine: an Island caught lying (or giving up nearly every job) gets no more claims, its
// escrow goes back to the platform, and every recent result of it that no other owner's Island
// confirmed is redrawn for its requester on a trusted Island, free, with the job saying so.
import { and, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Queryable } from '../db';
import { images, islands, jobs } from '../db/schema';
import type { BrokerEvent } from '../events';
import { newId } from '../auth/tokens';
import { requeueOrFail } from '../jobs/lifecycle';
import { jobVersionBump } from '../jobs/views';
import { trustConfig } from './config';
import { queuedEvent } from './eligibility';
import { forfeitEscrow } from './escrow';
import { SYSTEM_USER_ID } from './canaries';
import { eqLiteral } from '../db/literal';

/** The wake-ups and job changes to announce once the transaction commits. */
export type Announcements = BrokerEvent[];

type JobRow = typeof jobs.$inferSelect;

/** A copy of a requester's job for the platform to run again (a check or a rerun): no hold, paid from fees. */
export function redoOf(subject: JobRow, kind: 'check' | 'rerun', barredOwners: string[]): typeof jobs.$inferInsert {
	return {
		id: newId(),
		// The platform asks for it; the picture, once drawn, is stored as the requester's.
		userId: SYSTEM_USER_ID,
		kind,
		subjectJobId: subject.id,
		params: subject.params,
		model: subject.model,
		pixels: subject.pixels,
		cost: subject.cost,
		tier: subject.tier,
		leaseTtlMs: subject.leaseTtlMs,
		barredOwners
	};
}

/** Hides a picture from its requester and from share links; it stays for the admin's evidence. */
export async function withdrawImage(tx: Queryable, imageId: string | null) {
	if (imageId) await tx.update(images).set({ withdrawnAt: sql`now()` }).where(eq(images.id, imageId));
}

export async function quarantineIsland(tx: Queryable, islandId: string, reason: string): Promise<Announcements> {
	const [island] = await tx
		.update(islands)
		.set({ trust: 'quarantined', quarantinedAt: sql`now()`, quarantineReason: reason, online: false })
		.where(and(eq(islands.id, islandId), sql`${islands.trust} <> 'quarantined'`, eq(islands.vouched, false)))
		.returning();
	if (!island) return [];
	const out: Announcements = [];
	// Whatever it holds goes back to the queue, barred from its owner.
	const { rows: released } = await requeueOrFail(tx, eq(jobs.islandId, island.id), { code: 'island_error', reason: 'Its Island was quarantined.' }, { chargeIslands: false });
	for (const row of released) out.push(...(row.status === 'queued' ? [queuedEvent(row)] : []), { type: 'job', id: row.id });
	// Canaries waiting for it are of no use now.
	await tx.update(jobs).set({ status: 'cancelled', finishedAt: sql`now()` }).where(and(eq(jobs.targetIslandId, island.id), eqLiteral(jobs.status, 'queued')));
	await forfeitEscrow(tx, island);

	// Its recent results no other owner confirmed: redrawn on a trusted Island of another owner.
	const since = sql`now() - ${trustConfig().escrowWindowMs} * interval '1 millisecond'`;
	const redo = alias(jobs, 'redo');
	const drewReplacements = tx
		.select({ imageId: redo.imageId })
		.from(redo)
		.where(and(eq(redo.islandId, island.id), inArray(redo.kind, ['check', 'rerun']), eq(redo.status, 'completed')));
	const suspect = await tx
		.update(jobs)
		.set({ verification: 'redoing', version: jobVersionBump, updatedAt: sql`now()` })
		.where(
			and(
				eq(jobs.kind, 'user'),
				eqLiteral(jobs.status, 'completed'),
				gt(jobs.finishedAt, since),
				// A picture its requester deleted is not drawn again.
				isNull(jobs.imageDeletedAt),
				or(
					and(eq(jobs.islandId, island.id), inArray(jobs.verification, ['unchecked', 'checking', 'disputed'])),
					// A picture it drew (as a check or a rerun) that replaced another liar's.
					and(eq(jobs.verification, 'replaced'), inArray(jobs.imageId, drewReplacements))
				)
			)
		)
		.returning();
	if (suspect.length > 0) {
		// Checks already under way for them are replaced by the reruns.
		await tx
			.update(jobs)
			.set({ status: 'cancelled', finishedAt: sql`now()` })
			.where(and(inArray(jobs.subjectJobId, suspect.map((j) => j.id)), eq(jobs.kind, 'check'), eqLiteral(jobs.status, 'queued')));
		const reruns = suspect.map((subject) => redoOf(subject, 'rerun', [island.userId]));
		const inserted = await tx.insert(jobs).values(reruns).returning();
		for (const row of inserted) out.push(queuedEvent(row));
		for (const subject of suspect) out.push({ type: 'job', id: subject.id });
	}
	return out;
}
