// Deleting an account (docs/privacy.md). One transaction: the person's work is stopped and
// refunded, their Islands retired, everything personal deleted, and their ledger accounts
// closed. The users row stays as the ledger's reference (its transactions name the user),
// with nothing personal on it and the email freed.
import { and, eq, inArray, isNull, like, sql } from 'drizzle-orm';
import type { Queryable } from '../db';
import { apiKeys, idempotencyKeys, islands, jobs, kycEvents, ledgerAccounts, promptRejections, rateLimitCounters, sessions, users } from '../db/schema';
import { hashToken, newToken } from '../auth/tokens';
import { forgetUser } from '../auth/identity-cache';
import type { Broker } from '../jobs/context';
import { requeueOrFail } from '../jobs/lifecycle';
import { jobVersionBump } from '../jobs/views';
import { closeUserAccounts, ledgerAccount, refundJob } from '../ledger';
import { REMEMBERED_PREFIX } from '../rate-limit/counter';
import { forfeitEscrow } from '../trust/escrow';
import { quarantineIsland, type Announcements } from '../trust/quarantine';
import { erasePictures } from './images';
import { inLiterals } from '../db/literal';

const RETIRED = 'Its owner deleted their account.';

/** The requester's queued and running jobs: cancelled, each hold refunded. */
async function cancelOpenJobs(tx: Queryable, userId: string): Promise<Announcements> {
	const open = await tx
		.update(jobs)
		.set({ status: 'cancelled', version: jobVersionBump, leaseExpiresAt: null, finishedAt: sql`now()`, updatedAt: sql`now()`, failureCode: 'cancelled', failureReason: 'The account was deleted.' })
		.where(and(eq(jobs.userId, userId), inLiterals(jobs.status, ['queued', 'running'])))
		.returning({ id: jobs.id });
	for (const job of open) {
		const refunded = await refundJob(tx, job.id);
		await tx.update(jobs).set({ refunded }).where(eq(jobs.id, job.id));
	}
	return open.map((j) => ({ type: 'job', id: j.id }));
}

/**
 * The owner's Islands stop at once: their leases go back to the queue, their escrow is
 * forfeited and their recent unconfirmed results redrawn, as for a quarantined Island (an
 * Island that vanished must not leave wrong pictures behind unchecked: docs/trust.md). The rows
 * stay, retired (the trust records name them), with their tokens replaced.
 */
async function retireIslands(tx: Queryable, userId: string): Promise<Announcements> {
	const own = await tx.select().from(islands).where(eq(islands.userId, userId));
	const out: Announcements = [];
	for (const island of own) {
		if (!island.vouched) out.push(...(await quarantineIsland(tx, island.id, RETIRED)));
		else {
			const { rows: released } = await requeueOrFail(tx, eq(jobs.islandId, island.id), { code: 'island_error', reason: RETIRED }, { chargeIslands: false });
			for (const row of released) out.push({ type: 'job', id: row.id });
		}
		// Escrow from before it was vouched (or anything quarantine left): back to the platform.
		await forfeitEscrow(tx, island);
		await tx
			.update(islands)
			.set({ tokenHash: hashToken(newToken()), name: 'Deleted Island', online: false, vouched: false, trust: 'quarantined', quarantineReason: RETIRED, quarantinedAt: sql`coalesce(${islands.quarantinedAt}, now())` })
			.where(eq(islands.id, island.id));
	}
	if (own.length) {
		await tx.update(ledgerAccounts).set({ closedAt: sql`now()` }).where(inArray(ledgerAccounts.id, own.map((i) => ledgerAccount.escrow(i.id))));
	}
	return out;
}

/** Everything that says who the person is or what they asked for. */
async function erasePersonalData(tx: Queryable, user: { id: string; email: string }) {
	await tx.delete(sessions).where(eq(sessions.userId, user.id));
	await tx.delete(apiKeys).where(eq(apiKeys.userId, user.id));
	await erasePictures(tx, tx.select({ id: jobs.id }).from(jobs).where(eq(jobs.userId, user.id)));
	await tx.update(jobs).set({ imageId: null, imageDeletedAt: sql`coalesce(${jobs.imageDeletedAt}, now())` }).where(and(eq(jobs.userId, user.id), sql`${jobs.imageId} is not null`));
	await tx.delete(promptRejections).where(eq(promptRejections.userId, user.id));
	await tx.delete(idempotencyKeys).where(eq(idempotencyKeys.userId, user.id));
	// The addresses the person signed in from (the login limiter's memory).
	await tx.delete(rateLimitCounters).where(like(rateLimitCounters.key, `${REMEMBERED_PREFIX}${user.email.toLowerCase().replace(/[\\%_]/g, '\\$&')}|%`));
	// KYC: the record that a check happened, its outcome and the provider's reference stay
	// (what a regulator may ask for); what the person typed (name, birth date, country) goes.
	await tx.update(kycEvents).set({ details: null }).where(eq(kycEvents.userId, user.id));
}

/** Runs the deletion; the caller checked the password and the typed confirmation. */
export async function deleteAccount(broker: Broker, userId: string): Promise<boolean> {
	const announce = await broker.db.transaction(async (tx) => {
		// Locks the row: a second deletion at once waits, then finds it deleted.
		const [user] = await tx.select().from(users).where(and(eq(users.id, userId), isNull(users.deletedAt))).for('update');
		if (!user) return null;
		// A hold or purchase racing this deletion waits here, then finds the accounts closed (410).
		await tx.select({ id: ledgerAccounts.id }).from(ledgerAccounts).where(inArray(ledgerAccounts.id, [ledgerAccount.available(user.id), ledgerAccount.held(user.id)])).for('update');
		const out = [...(await cancelOpenJobs(tx, user.id)), ...(await retireIslands(tx, user.id))];
		await erasePersonalData(tx, user);
		await closeUserAccounts(tx, user.id);
		// The email is freed (the person may sign up again); the hash '!' matches no password.
		await tx
			.update(users)
			.set({ deletedAt: sql`now()`, email: `deleted-${user.id}@deleted.invalid`, passwordHash: '!', isAdmin: false })
			.where(eq(users.id, user.id));
		return out;
	});
	if (!announce) return false;
	forgetUser(userId);
	await broker.bus.publish({ type: 'identity', userId });
	for (const event of announce) await broker.bus.publish(event);
	return true;
}
