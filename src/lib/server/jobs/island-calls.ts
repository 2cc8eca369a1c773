// What an Island says about a job it holds. Every call carries the job's live lease; each
// write is guarded by (status = running, lease hash), so a late or replayed call is a no-op.
import { and, eq, sql, type Placeholder } from 'drizzle-orm';
import { islands, jobProgress, jobs } from '../db/schema';
import { ApiError } from '../http';
import { newId } from '../auth/tokens';
import type { Broker } from './context';
import { hashLease, leaseAttempt } from './lease';
import { announce, requeueOrFail } from './lifecycle';
import { checkPng } from './png-check';
import { variationResultProblem } from './variations';
import { jobVersionBump } from './views';
import { hotStatement, slot } from '../db/hot';
import { recordResult } from '../trust/verdicts';
import { expectedPay } from '../trust/escrow';
import type { FailBody, ProgressBody, ResultResponse } from '$lib/api';
import { eqLiteral } from '../db/literal';

export const MAX_RESULT_BYTES = 8 * 1024 * 1024;

/** A job's live lease, held by this Island: the guard of every write an Island's call makes. */
const liveLease = (islandId: string | Placeholder, leaseHash: string | Placeholder) =>
	and(eqLiteral(jobs.status, 'running'), eq(jobs.islandId, islandId), eq(jobs.leaseTokenHash, leaseHash))!;
export const leaseIs = (islandId: string, token: string) => liveLease(islandId, hashLease(token));

/** Why a lease-guarded write touched nothing: 404, 410 (cancelled), 409 (late/replayed), 403. */
export async function leaseProblem(broker: Broker, islandId: string, jobId: string, token: string): Promise<ApiError> {
	const [row] = await broker.db.select().from(jobs).where(eq(jobs.id, jobId));
	if (!row) return new ApiError(404, 'not_found', 'No such job.');
	const liveLease = row.leaseTokenHash === hashLease(token);
	// Its Island was removed (the job no longer names one) and the call still came: another
	// instance had its token remembered (requireIslandIdentity) until the removal reached it.
	if (row.islandId === null && liveLease) return new ApiError(401, 'invalid_island_token', 'This Island no longer exists.');
	const attempt = leaseAttempt(token);
	const matches = liveLease && row.islandId === islandId;
	// An older attempt's token, or this attempt's after the job moved on: late, not forged.
	const late = !matches && attempt !== null && attempt >= 1 && (attempt < row.attempts || (attempt === row.attempts && row.status !== 'running'));
	if (!matches && !late) return new ApiError(403, 'invalid_lease', 'This lease is not the live lease of that job.');
	if (row.status === 'cancelled') return new ApiError(410, 'job_cancelled', 'The requester cancelled this job; drop it.');
	if (row.status === 'completed') return new ApiError(409, 'job_completed', 'This job already has its result.');
	if (row.status === 'failed') return new ApiError(409, 'job_failed', 'This job has failed; drop it.');
	return new ApiError(409, 'lease_expired', 'This lease expired and the job went back to the queue.');
}

/** Records step k/n and the latest preview, and extends the lease from now. */
export async function reportProgress(broker: Broker, islandId: string, jobId: string, body: ProgressBody) {
	const row = await broker.db.transaction(async (tx) => {
		const [updated] = await tx
			.update(jobs)
			.set({ version: jobVersionBump, leaseExpiresAt: sql`now() + ${jobs.leaseTtlMs} * interval '1 millisecond'`, updatedAt: sql`now()` })
			.where(and(eq(jobs.id, jobId), leaseIs(islandId, body.lease)))
			.returning({ leaseExpiresAt: jobs.leaseExpiresAt });
		if (!updated) return null;
		const progress = { step: Math.min(body.step, body.total), total: body.total, preview: body.preview ?? null, updatedAt: new Date() };
		await tx.insert(jobProgress).values({ jobId, ...progress }).onConflictDoUpdate({ target: jobProgress.jobId, set: progress });
		return updated;
	});
	if (!row) throw await leaseProblem(broker, islandId, jobId, body.lease);
	await broker.bus.publish({ type: 'job', id: jobId });
	return { leaseExpiresAt: row.leaseExpiresAt!.toISOString() };
}

/** The Island gives up on this attempt; the job is retried elsewhere or fails with a refund. */
export async function reportFailure(broker: Broker, islandId: string, jobId: string, body: FailBody) {
	const { rows, events } = await broker.db.transaction((tx) =>
		requeueOrFail(tx, and(eq(jobs.id, jobId), leaseIs(islandId, body.lease))!, { code: 'island_error', reason: body.reason })
	);
	if (rows.length === 0) throw await leaseProblem(broker, islandId, jobId, body.lease);
	await announce(broker, rows, events);
	return { status: rows[0].status };
}

/**
 * Checks the PNG, stores it and settles in one transaction: the requester is charged, the
 * Island earns 80 % (floor) into its escrow, the platform keeps the rest; what the result
 * means for trust (a spot check, a canary's verdict) is decided in the same transaction
 * (trust/verdicts.ts). A bad PNG sends the job back to the queue (422).
 *
 * The lease-guarded UPDATE comes first and its row is what the PNG is checked against: the
 * job isn't read before it (one statement less on every result), and a refused picture rolls
 * the transaction back before the job goes back to the queue.
 */
export async function completeJob(broker: Broker, island: { id: string; userId: string }, jobId: string, lease: string, png: Uint8Array) {
	const imageId = newId();
	const outcome = await broker.db
		.transaction(async (tx) => {
			const [done] = await markCompleted(tx, { jobId, imageId, islandId: island.id, leaseHash: hashLease(lease) });
			if (!done) return null;
			const unfetched = variationResultProblem(done, lease);
			const verdict = unfetched ? { ok: false as const, reason: unfetched } : checkPng(png, { width: done.params.width, height: done.params.height });
			if (!verdict.ok) throw new RefusedResult(verdict.reason, unfetched !== null);
			// Only what a verdict reads of the Island (trust/verdicts.ts), not its whole row.
			const [me] = await countJobDone(tx, { id: island.id });
			// The job's progress row is left to the periodic sweep (deleteFinishedProgress): nothing
			// reads the progress of a job that isn't running.
			return recordResult(tx, { images: broker.images, job: done, island: me, png });
		})
		.catch((err) => (err instanceof RefusedResult ? requeueRefused(broker, island.id, jobId, lease, err) : Promise.reject(err)));
	if (!outcome) throw await leaseProblem(broker, island.id, jobId, lease);
	await broker.bus.publish({ type: 'job', id: jobId });
	for (const event of outcome.announce) await broker.bus.publish(event);
	return { imageId, earned: outcome.earned } satisfies ResultResponse;
}

/**
 * The result's lease-guarded UPDATE: the job completed, with the pay its settlement will record
 * (expectedPay); its whole row returned (checked against the PNG, then settled).
 */
const markCompleted = hotStatement((db) =>
	db
		.update(jobs)
		.set({
			status: 'completed',
			version: jobVersionBump,
			imageId: slot<string>('imageId'),
			leaseExpiresAt: null,
			finishedAt: sql`now()`,
			updatedAt: sql`now()`,
			...expectedPay(sql.placeholder('islandId'))
		})
		.where(and(eq(jobs.id, sql.placeholder('jobId')), liveLease(sql.placeholder('islandId'), sql.placeholder('leaseHash'))))
		.returning()
);

/** The Island did a job: a sign of life too. Returns only what a verdict reads of it (trust/verdicts.ts), not its whole row. */
const countJobDone = hotStatement((db) =>
	db
		.update(islands)
		.set({ jobsDone: sql`${islands.jobsDone} + 1`, lastHeartbeatAt: sql`now()`, online: true })
		.where(eq(islands.id, sql.placeholder('id')))
		.returning({ id: islands.id, userId: islands.userId, vouched: islands.vouched, backend: islands.backend, createdAt: islands.createdAt })
);

/** Thrown inside the result's transaction to roll it back: the picture is not the job's. */
class RefusedResult extends Error {
	constructor(
		readonly reason: string,
		readonly unfetched: boolean
	) {
		super(reason);
	}
}

/** The refused result's job goes back to the queue (or fails, past its attempts); always 422. */
async function requeueRefused(broker: Broker, islandId: string, jobId: string, lease: string, refused: RefusedResult): Promise<never> {
	const { rows, events } = await broker.db.transaction((tx) =>
		requeueOrFail(tx, and(eq(jobs.id, jobId), leaseIs(islandId, lease))!, { code: 'invalid_image', reason: refused.reason })
	);
	await announce(broker, rows, events);
	throw new ApiError(422, refused.unfetched ? 'input_not_fetched' : 'invalid_png', `Result refused: ${refused.reason}. The job went back to the queue.`);
}
