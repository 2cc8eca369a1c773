import { desc, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../db';
import { alias } from 'drizzle-orm/pg-core';
import { islands, jobs, kycEvents, promptRejections, users } from '../db/schema';

export const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

/**
 * Users, newest first, with their cached balances (the ledger check vouches for the cache).
 * The account ids follow ledger/accounts.ts: user:<id>:available and user:<id>:held.
 * (users.id is written out: drizzle renders a column bare in a select, and a bare "id"
 * inside the subquery would mean ledger_accounts.id.)
 */
export async function usersWithBalances(tx: Queryable, limit = 100) {
	const rows = await tx
		.select({
			id: users.id,
			email: users.email,
			kycStatus: users.kycStatus,
			isAdmin: users.isAdmin,
			createdAt: users.createdAt,
			available: sql<number>`coalesce((select balance from ledger_accounts where id = 'user:' || users.id || ':available'), 0)`.mapWith(Number),
			held: sql<number>`coalesce((select balance from ledger_accounts where id = 'user:' || users.id || ':held'), 0)`.mapWith(Number)
		})
		.from(users)
		.orderBy(desc(users.createdAt))
		.limit(limit);
	return rows.map((r) => ({ ...r, createdAt: iso(r.createdAt)! }));
}

/** Islands, online ones first, with their backend and jobs done. */
export async function islandsOverview(tx: Queryable, limit = 100) {
	const rows = await tx
		.select({
			id: islands.id,
			name: islands.name,
			owner: users.email,
			backend: islands.backend,
			models: islands.models,
			online: islands.online,
			jobsDone: islands.jobsDone,
			builtin: islands.builtin,
			lastHeartbeatAt: islands.lastHeartbeatAt
		})
		.from(islands)
		.innerJoin(users, eq(islands.userId, users.id))
		.orderBy(desc(islands.online), desc(islands.lastHeartbeatAt))
		.limit(limit);
	return rows.map((r) => ({ ...r, lastHeartbeatAt: iso(r.lastHeartbeatAt) }));
}

export async function recentJobs(tx: Queryable, limit = 30) {
	const rows = await tx
		.select({
			id: jobs.id,
			requester: users.email,
			status: jobs.status,
			model: jobs.model,
			prompt: sql<string>`${jobs.params}->>'prompt'`,
			cost: jobs.cost,
			tier: jobs.tier,
			island: islands.name,
			failureCode: jobs.failureCode,
			failureReason: jobs.failureReason,
			createdAt: jobs.createdAt,
			finishedAt: jobs.finishedAt
		})
		.from(jobs)
		.innerJoin(users, eq(jobs.userId, users.id))
		.leftJoin(islands, eq(jobs.islandId, islands.id))
		.orderBy(desc(jobs.createdAt))
		.limit(limit);
	return rows.map((r) => ({ ...r, createdAt: iso(r.createdAt)!, finishedAt: iso(r.finishedAt) }));
}

export async function rejectedPrompts(tx: Queryable, limit = 30) {
	const rows = await tx
		.select({
			id: promptRejections.id,
			email: users.email,
			prompt: promptRejections.prompt,
			negativePrompt: promptRejections.negativePrompt,
			field: promptRejections.field,
			terms: promptRejections.terms,
			createdAt: promptRejections.createdAt
		})
		.from(promptRejections)
		.innerJoin(users, eq(promptRejections.userId, users.id))
		.orderBy(desc(promptRejections.id))
		.limit(limit);
	return rows.map((r) => ({ ...r, createdAt: iso(r.createdAt)! }));
}

/** The latest identity decisions across users: the audit trail, newest first. */
export async function recentKycEvents(tx: Queryable, limit = 30) {
	const actor = alias(users, 'actor');
	const rows = await tx
		.select({
			id: kycEvents.id,
			email: users.email,
			fromStatus: kycEvents.fromStatus,
			toStatus: kycEvents.toStatus,
			actor: kycEvents.actor,
			actorEmail: actor.email,
			provider: kycEvents.provider,
			reference: kycEvents.reference,
			reason: kycEvents.reason,
			createdAt: kycEvents.createdAt
		})
		.from(kycEvents)
		.innerJoin(users, eq(kycEvents.userId, users.id))
		.leftJoin(actor, eq(kycEvents.actorUserId, actor.id))
		.orderBy(desc(kycEvents.id))
		.limit(limit);
	return rows.map((r) => ({ ...r, createdAt: iso(r.createdAt)! }));
}
