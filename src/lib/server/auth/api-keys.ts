import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Queryable } from '../db';
import { apiKeys, users } from '../db/schema';
import { hashToken, newId, newToken } from './tokens';
import { toSessionUser } from './users';

export const API_KEY_PREFIX = 'ak_';

/** The secret is returned once, here; only its hash is kept. */
export async function createApiKey(tx: Queryable, userId: string, name: string) {
	const secret = newToken(API_KEY_PREFIX);
	const [row] = await tx
		.insert(apiKeys)
		.values({ id: newId(), userId, name, prefix: secret.slice(0, 10), keyHash: hashToken(secret) })
		.returning();
	return { key: publicKey(row), secret };
}

export function publicKey(row: typeof apiKeys.$inferSelect) {
	return {
		id: row.id,
		name: row.name,
		prefix: row.prefix,
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
	return rows.length > 0;
}

export async function resolveApiKey(tx: Queryable, secret: string) {
	const [row] = await tx
		.select({ key: apiKeys, user: users })
		.from(apiKeys)
		.innerJoin(users, eq(apiKeys.userId, users.id))
		.where(and(eq(apiKeys.keyHash, hashToken(secret)), isNull(apiKeys.revokedAt)));
	if (!row) return null;
	await tx.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, row.key.id));
	return { apiKeyId: row.key.id, user: toSessionUser(row.user) };
}
