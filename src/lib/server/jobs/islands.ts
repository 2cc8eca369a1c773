// Islands: registered by a signed-in user, then authenticated by their `isl_…` token alone.
import { and, count, eq, lt, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { HeartbeatBody, IslandView, RegisterIslandBody } from '$lib/api';
import { trustConfig } from '../trust/config';
import type { RequestEvent } from '@sveltejs/kit';
import type { Queryable } from '../db';
import { islands } from '../db/schema';
import { hotStatement } from '../db/hot';
import { ApiError } from '../http';
import { hashToken, newId, newToken } from '../auth/tokens';
import { cachedIdentity } from '../auth/identity-cache';

export const ISLAND_TOKEN_PREFIX = 'isl_';
/** No heartbeat (or claim) for this long and an Island counts as offline (ISLAND_OFFLINE_AFTER_MS: tests). */
export const ISLAND_OFFLINE_AFTER_MS = Number(process.env.ISLAND_OFFLINE_AFTER_MS) || 60_000;

export { HeartbeatBody, RegisterIslandBody } from '$lib/api';

export type IslandRow = typeof islands.$inferSelect;

export function islandView(row: IslandRow, escrowed = 0): IslandView {
	return {
		id: row.id,
		name: row.name,
		backend: row.backend,
		models: row.models,
		maxPixels: row.maxPixels,
		online: row.online,
		lastHeartbeatAt: row.lastHeartbeatAt?.toISOString() ?? null,
		jobsDone: row.jobsDone,
		createdAt: row.createdAt.toISOString(),
		trust: row.vouched ? 'trusted' : row.trust,
		probation: { passed: row.canariesPassed, needed: trustConfig().probationCanaries },
		quarantineReason: row.quarantineReason,
		escrowed
	};
}

/** The token is returned once, here; only its hash is kept. */
export async function registerIsland(tx: Queryable, userId: string, body: z.infer<typeof RegisterIslandBody>) {
	const token = newToken(ISLAND_TOKEN_PREFIX);
	const [row] = await tx
		.insert(islands)
		.values({ id: newId(), userId, tokenHash: hashToken(token), name: body.name, backend: body.backend ?? null, models: body.models ?? [], ...(body.maxPixels ? { maxPixels: body.maxPixels } : {}) })
		.returning();
	return { island: islandView(row), token };
}

const islandByHash = hotStatement((db) => db.select().from(islands).where(eq(islands.tokenHash, sql.placeholder('hash'))));
const identityByHash = hotStatement((db) => db.select({ id: islands.id, userId: islands.userId }).from(islands).where(eq(islands.tokenHash, sql.placeholder('hash'))));

export async function islandByToken(tx: Queryable, token: string) {
	const [row] = await islandByHash(tx, { hash: hashToken(token) });
	return row ?? null;
}

const islandBearer = (event: RequestEvent) => {
	const bearer = event.request.headers.get('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
	return bearer?.startsWith(ISLAND_TOKEN_PREFIX) ? bearer : null;
};
const invalidIslandToken = () => new ApiError(401, 'invalid_island_token', 'Send your Island token as "Authorization: Bearer isl_…".');

/** Island routes that decide on the Island's row (claim, heartbeat): `Authorization: Bearer isl_…`, nothing else. */
export async function requireIsland(tx: Queryable, event: RequestEvent): Promise<IslandRow> {
	const bearer = islandBearer(event);
	const row = bearer ? await islandByToken(tx, bearer) : null;
	if (!row) throw invalidIslandToken();
	return row;
}

/**
 * Which Island a token names, for the calls about a job it holds (result, progress, fail, its
 * input picture): each of their writes is guarded by the job's lease and Island, so they need
 * no more of its row. Remembered for seconds like a session (auth/identity-cache.ts): a result
 * makes one statement less. Removing the Island, or anything that takes its owner's rights
 * away, forgets it at once (forgetUser: every instance, through the event bus).
 */
export async function requireIslandIdentity(tx: Queryable, event: RequestEvent): Promise<{ id: string; userId: string }> {
	const bearer = islandBearer(event);
	const hash = bearer ? hashToken(bearer) : null;
	const identity = hash
		? await cachedIdentity(`island:${hash}`, async () => {
				const [row] = await identityByHash(tx, { hash });
				return row ? { user: { id: row.userId }, islandId: row.id } : null;
			})
		: null;
	if (!identity) throw invalidIslandToken();
	return { id: identity.islandId, userId: identity.user.id };
}

export async function recordHeartbeat(tx: Queryable, islandId: string, body: z.infer<typeof HeartbeatBody>) {
	const [row] = await tx
		.update(islands)
		.set({ backend: body.backend, models: body.models, ...(body.maxPixels ? { maxPixels: body.maxPixels } : {}), lastHeartbeatAt: sql`now()`, online: true })
		.where(eq(islands.id, islandId))
		.returning();
	return islandView(row);
}

export async function markSilentIslandsOffline(tx: Queryable) {
	return tx
		.update(islands)
		.set({ online: false })
		.where(and(eq(islands.online, true), lt(islands.lastHeartbeatAt, sql`now() - ${ISLAND_OFFLINE_AFTER_MS} * interval '1 millisecond'`)))
		.returning({ id: islands.id });
}

export async function islandsOnline(tx: Queryable) {
	const [row] = await tx.select({ n: count() }).from(islands).where(eq(islands.online, true));
	return row.n;
}
