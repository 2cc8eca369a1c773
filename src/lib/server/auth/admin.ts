// Admin rights live in users.is_admin and come only from the operator: whoever can read the
// server's console (or set its environment) holds a claim token, and a signed-in person who
// presents it becomes admin. Nothing a visitor types (an email, a name) grants anything.
import { createHash, timingSafeEqual } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Queryable } from '../db';
import { serverSecrets, users } from '../db/schema';
import { newToken } from './tokens';
import { forgetUser } from './identity-cache';

const CLAIM_SECRET = 'admin-claim';
const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * At start: with no admin yet and no ADMIN_CLAIM_TOKEN configured, makes a one-time claim
 * token (only its hash is stored, so any instance sharing the database accepts it) and
 * returns it for the console. A newer start replaces an unused older token.
 */
export async function prepareAdminClaim(tx: Queryable, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
	const [admin] = await tx.select({ id: users.id }).from(users).where(eq(users.isAdmin, true)).limit(1);
	if (env.ADMIN_CLAIM_TOKEN || admin) {
		// A token printed by an earlier start must not outlive its purpose (old logs leak).
		await forgetClaimToken(tx);
		return null;
	}
	const token = newToken('adm_');
	const value = sha256(token).toString('hex');
	await tx
		.insert(serverSecrets)
		.values({ name: CLAIM_SECRET, value })
		.onConflictDoUpdate({ target: serverSecrets.name, set: { value } });
	return token;
}

/**
 * Makes `userId` an admin when `token` is ADMIN_CLAIM_TOKEN (the operator's standing secret)
 * or the one-time token printed at start (then used up). False for anything else.
 */
export async function claimAdmin(tx: Queryable, userId: string, token: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
	const configured = env.ADMIN_CLAIM_TOKEN;
	let valid = false;
	if (configured && configured.length >= 16) valid = timingSafeEqual(sha256(configured), sha256(token));
	// The one-time token only ever makes the first admin: once one exists it is void.
	const [admin] = await tx.select({ id: users.id }).from(users).where(eq(users.isAdmin, true)).limit(1);
	if (!valid && !admin) {
		const used = await tx
			.delete(serverSecrets)
			.where(and(eq(serverSecrets.name, CLAIM_SECRET), eq(serverSecrets.value, sha256(token).toString('hex'))))
			.returning({ name: serverSecrets.name });
		valid = used.length > 0;
	}
	if (valid) {
		await tx.update(users).set({ isAdmin: true }).where(eq(users.id, userId));
		forgetUser(userId);
		await forgetClaimToken(tx);
	}
	return valid;
}

async function forgetClaimToken(tx: Queryable) {
	await tx.delete(serverSecrets).where(eq(serverSecrets.name, CLAIM_SECRET));
}

/** An admin grants or withdraws another account's rights from /admin (never their own withdrawal). */
export async function setAdmin(tx: Queryable, actorId: string, userId: string, isAdmin: boolean): Promise<boolean> {
	if (!isAdmin && actorId === userId) return false;
	const rows = await tx.update(users).set({ isAdmin }).where(eq(users.id, userId)).returning({ id: users.id });
	forgetUser(userId);
	return rows.length > 0;
}
