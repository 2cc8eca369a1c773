import { eq, sql } from 'drizzle-orm';
import type { Queryable } from '../db';
import { users } from '../db/schema';
import { newId } from './tokens';

export type KycStatus = (typeof users.$inferSelect)['kycStatus'];

export interface SessionUser {
	id: string;
	email: string;
	kycStatus: KycStatus;
	isAdmin: boolean;
}

export function toSessionUser(row: typeof users.$inferSelect): SessionUser {
	return { id: row.id, email: row.email, kycStatus: row.kycStatus, isAdmin: row.isAdmin };
}

/** Returns null when the email is taken (the unique index decides, so concurrent sign-ups can't both win). */
export async function createUser(tx: Queryable, email: string, passwordHash: string) {
	const [row] = await tx
		.insert(users)
		.values({ id: newId(), email: email.trim(), passwordHash })
		.onConflictDoNothing()
		.returning();
	return row ?? null;
}

export async function findUserByEmail(tx: Queryable, email: string) {
	const [row] = await tx
		.select()
		.from(users)
		.where(eq(sql`lower(${users.email})`, email.trim().toLowerCase()));
	return row ?? null;
}
