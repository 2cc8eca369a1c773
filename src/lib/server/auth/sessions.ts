import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import type { Queryable } from '../db';
import { sessions, users } from '../db/schema';
import { hashToken, newToken } from './tokens';
import { toSessionUser } from './users';
import { forgetUser } from './identity-cache';

export const SESSION_COOKIE = 'session';
const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;
// Sliding expiry, but only rewritten once a day so every request isn't a write.
const RENEW_WHEN_LEFT_MS = SESSION_TTL_MS - 24 * 3600 * 1000;

export async function createSession(tx: Queryable, userId: string) {
	const token = newToken();
	const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
	await tx.insert(sessions).values({ id: hashToken(token), userId, expiresAt });
	return { token, expiresAt };
}

export async function resolveSession(tx: Queryable, token: string) {
	const id = hashToken(token);
	const [row] = await tx
		.select({ session: sessions, user: users })
		.from(sessions)
		.innerJoin(users, eq(sessions.userId, users.id))
		.where(and(eq(sessions.id, id), gt(sessions.expiresAt, new Date()), isNull(users.deletedAt)));
	if (!row) return null;
	let expiresAt = row.session.expiresAt;
	if (expiresAt.getTime() - Date.now() < RENEW_WHEN_LEFT_MS) {
		expiresAt = new Date(Date.now() + SESSION_TTL_MS);
		await tx.update(sessions).set({ expiresAt }).where(eq(sessions.id, id));
	}
	return { sessionId: id, expiresAt, user: toSessionUser(row.user) };
}

export async function deleteSession(tx: Queryable, sessionId: string) {
	const [gone] = await tx.delete(sessions).where(eq(sessions.id, sessionId)).returning({ userId: sessions.userId });
	if (gone) forgetUser(gone.userId);
}

/** Expired sessions are already refused; deleting them keeps the table small. Returns how many went. */
export async function deleteExpiredSessions(tx: Queryable): Promise<number> {
	const gone = await tx.delete(sessions).where(lt(sessions.expiresAt, new Date())).returning({ id: sessions.id });
	return gone.length;
}
