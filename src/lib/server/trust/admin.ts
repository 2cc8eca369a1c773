// The admin's side of Island trust (/admin): the Islands to look at, with the evidence, and
// the two decisions an admin takes: reinstate a quarantined Island, or vouch for one (its
// results become references, like the built-in Island's).
import { and, desc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Queryable } from '../db';
import { islands, trustChecks, users } from '../db/schema';
import { iso } from '../admin/console';
import { suspiciousIslandsFilter } from './failures';

/** Quarantined and suspicious Islands, newest trouble first, each with its last comparisons. */
export async function islandsUnderReview(tx: Queryable, limit = 50) {
	const rows = await tx
		.select({ island: islands, owner: users.email })
		.from(islands)
		.innerJoin(users, eq(users.id, islands.userId))
		// A deleted account's Islands are retired, not under review.
		.where(and(or(eq(islands.trust, 'quarantined'), suspiciousIslandsFilter()), isNull(users.deletedAt)))
		.orderBy(desc(sql`coalesce(${islands.quarantinedAt}, ${islands.lastHeartbeatAt}, ${islands.createdAt})`))
		.limit(limit);
	const ids = rows.map((r) => r.island.id);
	const checks = ids.length
		? await tx.select().from(trustChecks).where(inArray(trustChecks.islandId, ids)).orderBy(desc(trustChecks.id)).limit(limit * 5)
		: [];
	return rows.map(({ island, owner }) => ({
		id: island.id,
		name: island.name,
		owner,
		backend: island.backend,
		trust: island.trust,
		quarantinedAt: iso(island.quarantinedAt),
		quarantineReason: island.quarantineReason,
		jobsDone: island.jobsDone,
		attemptsFailed: island.attemptsFailed,
		speedFlags: island.speedFlags,
		// Disagreements first: they are the evidence; agreements show the Island's record.
		checks: checks
			.filter((c) => c.islandId === island.id)
			.sort((a, b) => Number(a.same) - Number(b.same) || b.id - a.id)
			.slice(0, 5)
			.map((c) => ({ id: c.id, kind: c.kind, jobId: c.jobId, imageId: c.imageId, otherImageId: c.otherImageId, otherIslandId: c.otherIslandId, same: c.same, distance: c.distance, detail: c.detail, at: c.createdAt.toISOString() }))
	}));
}

/** A quarantined Island back to work as a trusted one, its failure counters cleared. */
export async function reinstateIsland(tx: Queryable, islandId: string): Promise<boolean> {
	const rows = await tx
		.update(islands)
		.set({ trust: 'trusted', trustedAt: sql`now()`, quarantinedAt: null, quarantineReason: null, attemptsFailed: 0, speedFlags: 0 })
		.where(and(eq(islands.id, islandId), eq(islands.trust, 'quarantined')))
		.returning({ id: islands.id });
	return rows.length > 0;
}

/** Vouches for an Island: trusted, never spot-checked, and its results are references. */
export async function vouchForIsland(tx: Queryable, islandId: string): Promise<boolean> {
	const rows = await tx
		.update(islands)
		.set({ trust: 'trusted', vouched: true, trustedAt: sql`now()`, quarantinedAt: null, quarantineReason: null })
		.where(eq(islands.id, islandId))
		.returning({ id: islands.id });
	return rows.length > 0;
}
