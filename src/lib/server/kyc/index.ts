import { desc, eq, sql } from 'drizzle-orm';
import { SandboxKycInput, StripeKycInput, type KycState } from '$lib/schemas/kyc';
import type { Database, Queryable } from '../db';
import { kycEvents, users } from '../db/schema';
import { ApiError, parseWith } from '../http';
import { newToken } from '../auth/tokens';
import type { SessionUser } from '../auth/users';
import { kycConfig, type KycConfig } from './config';
import { sandboxOutcome } from './sandbox';
import { createStripeSession } from './stripe';
import { changeKycStatus, kycState } from './status';

export { kycConfig, unsafeKycReason, type KycConfig } from './config';
export { kycState, changeKycStatus } from './status';
export { assertMayGenerate } from './gate';

export interface StartOptions {
	config?: KycConfig;
	/** Where Stripe sends the person back to (the /verify page). */
	returnUrl: string;
	now?: Date;
}

export interface StartResult {
	kyc: KycState;
	/** Stripe: the hosted verification page to send the browser to. */
	redirectUrl?: string;
}

/** Locks the user row, so two starts at once can't both pass the cool-down check. */
async function lockedState(tx: Queryable, userId: string, config: KycConfig, now: Date) {
	await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
	return kycState(tx, userId, config, now);
}

function assertMayStart(state: KycState, config: KycConfig) {
	if (state.status === 'verified') throw new ApiError(409, 'kyc_already_verified', 'Your identity is already verified.');
	if (state.status === 'pending' && config.provider === 'sandbox') {
		throw new ApiError(409, 'kyc_pending_review', 'Your verification is waiting for review. You will be able to generate once it is approved.');
	}
	if (state.retryAt) {
		const seconds = Math.max(1, Math.ceil((Date.parse(state.retryAt) - Date.now()) / 1000));
		throw new ApiError(
			429,
			'kyc_retry_later',
			`Your last verification was rejected. You can try again after ${state.retryAt}.`,
			undefined,
			{ 'retry-after': String(seconds) }
		);
	}
}

/** POST /api/kyc/start: the sandbox decides at once; Stripe returns the page to continue on. */
export async function startVerification(db: Database, user: SessionUser, body: unknown, options: StartOptions): Promise<StartResult> {
	const config = options.config ?? kycConfig();
	const now = options.now ?? new Date();
	if (config.provider === 'stripe' && config.stripe) {
		parseWith(StripeKycInput, body ?? {});
		assertMayStart(await kycState(db, user.id, config, now), config);
		const session = await createStripeSession(config.stripe, user, options.returnUrl);
		const kyc = await db.transaction(async (tx) => {
			assertMayStart(await lockedState(tx, user.id, config, now), config);
			await changeKycStatus(tx, {
				userId: user.id,
				from: ['unverified', 'rejected', 'pending'],
				to: 'pending',
				actor: 'user',
				actorUserId: user.id,
				provider: 'stripe',
				reference: session.reference,
				reason: 'Started a Stripe Identity verification session.'
			});
			return kycState(tx, user.id, config, now);
		});
		return { kyc, redirectUrl: session.url };
	}

	const input = parseWith(SandboxKycInput, body);
	const kyc = await db.transaction(async (tx) => {
		assertMayStart(await lockedState(tx, user.id, config, now), config);
		const reference = newToken('sbx_').slice(0, 24);
		const details = { legalName: input.legalName, dateOfBirth: input.dateOfBirth, country: input.country };
		await changeKycStatus(tx, {
			userId: user.id,
			from: ['unverified', 'rejected'],
			to: 'pending',
			actor: 'user',
			actorUserId: user.id,
			provider: 'sandbox',
			reference,
			reason: 'Submitted sandbox verification details.',
			details
		});
		const outcome = sandboxOutcome(input);
		if (outcome.status !== 'pending') {
			await changeKycStatus(tx, {
				userId: user.id,
				from: ['pending'],
				to: outcome.status,
				actor: 'provider',
				provider: 'sandbox',
				reference,
				reason: outcome.reason
			});
		}
		return kycState(tx, user.id, config, now);
	});
	return { kyc };
}

/** An admin's decision on a verification waiting for review. False when it wasn't pending (any more). */
export async function reviewVerification(
	db: Database,
	admin: SessionUser,
	userId: string,
	decision: 'approve' | 'reject',
	reason: string
): Promise<boolean> {
	return db.transaction(async (tx) => {
		const [last] = await tx
			.select({ provider: kycEvents.provider, reference: kycEvents.reference })
			.from(kycEvents)
			.where(eq(kycEvents.userId, userId))
			.orderBy(desc(kycEvents.id))
			.limit(1);
		const changed = await changeKycStatus(tx, {
			userId,
			from: ['pending'],
			to: decision === 'approve' ? 'verified' : 'rejected',
			actor: 'admin',
			actorUserId: admin.id,
			provider: last?.provider ?? 'sandbox',
			reference: last?.reference ?? null,
			reason: reason.trim() || (decision === 'approve' ? 'Approved by an admin.' : 'Rejected by an admin.')
		});
		return changed !== null;
	});
}

/** An admin takes a verification back (a fraud report, a mistake): the person must verify again. */
export async function revokeVerification(db: Database, admin: SessionUser, userId: string, reason: string): Promise<boolean> {
	return db.transaction(async (tx) => {
		const changed = await changeKycStatus(tx, {
			userId,
			from: ['verified'],
			to: 'unverified',
			actor: 'admin',
			actorUserId: admin.id,
			provider: kycConfig().provider,
			reason: reason.trim() || 'Revoked by an admin.'
		});
		return changed !== null;
	});
}

/** Users waiting for review, oldest first, with what they submitted. */
export async function pendingVerifications(tx: Queryable, limit = 50) {
	const rows = await tx
		.select({
			userId: users.id,
			email: users.email,
			submittedAt: sql<Date>`(select max(e.created_at) from kyc_events e where e.user_id = users.id and e.to_status = 'pending')`,
			details: sql<Record<string, string> | null>`(select e.details from kyc_events e where e.user_id = users.id and e.details is not null order by e.id desc limit 1)`,
			provider: sql<string | null>`(select e.provider from kyc_events e where e.user_id = users.id order by e.id desc limit 1)`
		})
		.from(users)
		.where(eq(users.kycStatus, 'pending'))
		.orderBy(users.createdAt)
		.limit(limit);
	return rows.map((r) => ({ ...r, submittedAt: r.submittedAt ? new Date(r.submittedAt).toISOString() : null }));
}
