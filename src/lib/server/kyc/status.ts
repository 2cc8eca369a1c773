import { and, desc, eq, sql } from 'drizzle-orm';
import type { KycState } from '$lib/schemas/kyc';
import type { Queryable } from '../db';
import { kycEvents, users } from '../db/schema';
import type { KycStatus } from '../auth/users';
import type { KycConfig, KycProviderId } from './config';
import { forgetUser } from '../auth/identity-cache';

export interface KycChange {
	userId: string;
	/** The change happens only from one of these statuses (a late or replayed call is a no-op). */
	from: readonly KycStatus[];
	to: KycStatus;
	actor: 'user' | 'admin' | 'provider';
	actorUserId?: string | null;
	provider: KycProviderId;
	reference?: string | null;
	providerEventId?: string | null;
	reason?: string;
	details?: Record<string, string> | null;
}

/**
 * Moves users.kyc_status and writes its audit row in the caller's transaction. The row lock
 * makes the check-then-write safe when an admin and a webhook decide the same person at once.
 * Returns the previous status, or null when the user wasn't in an allowed `from` status.
 */
export async function changeKycStatus(tx: Queryable, change: KycChange): Promise<KycStatus | null> {
	const [row] = await tx
		.select({ status: users.kycStatus })
		.from(users)
		.where(eq(users.id, change.userId))
		.for('update');
	if (!row || !change.from.includes(row.status)) return null;
	if (row.status !== change.to) {
		await tx.update(users).set({ kycStatus: change.to }).where(eq(users.id, change.userId));
		forgetUser(change.userId);
	}
	await tx.insert(kycEvents).values({
		userId: change.userId,
		fromStatus: row.status,
		toStatus: change.to,
		actor: change.actor,
		actorUserId: change.actorUserId ?? null,
		provider: change.provider,
		reference: change.reference ?? null,
		providerEventId: change.providerEventId ?? null,
		reason: change.reason ?? '',
		details: change.details ?? null
	});
	return row.status;
}

async function currentKycStatus(tx: Queryable, userId: string): Promise<KycStatus | null> {
	const [row] = await tx.select({ status: users.kycStatus }).from(users).where(eq(users.id, userId));
	return row?.status ?? null;
}

/** The last reference a provider gave this user's verification (a Stripe session id). */
export async function latestReference(tx: Queryable, userId: string, provider: KycProviderId) {
	const [row] = await tx
		.select({ reference: kycEvents.reference })
		.from(kycEvents)
		.where(and(eq(kycEvents.userId, userId), eq(kycEvents.provider, provider), sql`${kycEvents.reference} is not null`))
		.orderBy(desc(kycEvents.id))
		.limit(1);
	return row?.reference ?? null;
}

/** Status plus what the person needs to know next: the reason of a rejection and when to retry. */
export async function kycState(tx: Queryable, userId: string, config: KycConfig, now = new Date()): Promise<KycState> {
	const status = (await currentKycStatus(tx, userId)) ?? 'unverified';
	let reason: string | null = null;
	let retryAt: string | null = null;
	if (status === 'rejected') {
		const [last] = await tx
			.select({ reason: kycEvents.reason, createdAt: kycEvents.createdAt })
			.from(kycEvents)
			.where(and(eq(kycEvents.userId, userId), eq(kycEvents.toStatus, 'rejected')))
			.orderBy(desc(kycEvents.id))
			.limit(1);
		reason = last?.reason || null;
		const at = last ? last.createdAt.getTime() + config.retryCooldownMs : 0;
		retryAt = at > now.getTime() ? new Date(at).toISOString() : null;
	}
	return { status, provider: config.provider, reason, retryAt };
}
