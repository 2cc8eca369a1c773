import { and, count, desc, eq, isNull, lt, or } from 'drizzle-orm';
import type { ApiKeyScope } from '$lib/schemas/scopes';
import type { Queryable } from '../db';
import { apiKeys, users } from '../db/schema';
import { hashToken, newId, newToken } from './tokens';
import { toSessionUser } from './users';
import { forgetUser } from './identity-cache';

export const API_KEY_PREFIX = 'ak_';

/** How long a key's last use may be stale: recording every request would be a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Keys a user holds unrevoked, for the per-user cap. */
export async function activeKeyCount(tx: Queryable, userId: string) {
	const [row] = await tx.select({ n: count() }).from(apiKeys).where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)));
	return row.n;
}

/** The secret is returned once, here; only its hash is kept. */
export async function createApiKey(tx: Queryable, userId: string, name: string, scopes: ApiKeyScope[]) {
	const secret = newToken(API_KEY_PREFIX);
	const [row] = await tx
		.insert(apiKeys)
		.values({ id: newId(), userId, name, scopes, prefix: secret.slice(0, 10), keyHash: hashToken(secret) })
		.returning();
	return { key: publicKey(row), secret };
}

function publicKey(row: typeof apiKeys.$inferSelect) {
	return {
		id: row.id,
		name: row.name,
		prefix: row.prefix,
		scopes: row.scopes,
		createdAt: row.createdAt.toISOString(),
		lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
		revokedAt: row.revokedAt?.toISOString() ?? null
	};
}

export async function listApiKeys(tx: Queryable, userId: string) {
	const rows = await tx.select().from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(desc(apiKeys.createdAt));
	return rows.map(publicKey);
}

/** False when the key doesn't exist, isn't the user's, or was already revoked. */
export async function revokeApiKey(tx: Queryable, userId: string, id: string) {
	const rows = await tx
		.update(apiKeys)
		.set({ revokedAt: new Date() })
		.where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
		.returning({ id: apiKeys.id });
	forgetUser(userId);
	return rows.length > 0;
}

export async function resolveApiKey(tx: Queryable, secret: string) {
	const [row] = await tx
		.select({ key: apiKeys, user: users })
		.from(apiKeys)
		.innerJoin(users, eq(apiKeys.userId, users.id))
		.where(and(eq(apiKeys.keyHash, hashToken(secret)), isNull(apiKeys.revokedAt), isNull(users.deletedAt)));
	if (!row) return null;
	const now = new Date();
	if (!row.key.lastUsedAt || now.getTime() - row.key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
		const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
		await tx
			.update(apiKeys)
			.set({ lastUsedAt: now })
			.where(and(eq(apiKeys.id, row.key.id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, stale))));
	}
	// Admin rights need a person at a session: a key (stored in scripts, CI) never carries them.
	return { apiKeyId: row.key.id, scopes: row.key.scopes, user: { ...toSessionUser(row.user), isAdmin: false } };
}
