// The requester's side: quote, submit, read, cancel.
import { randomInt } from 'node:crypto';
import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { costOf, paramsSchemaFor, UINT32_MAX, type GenerationParams } from '$lib/schemas/generation';
import type { SessionUser } from '../auth/users';
import { newId } from '../auth/tokens';
import { jobProgress, jobs, type StoredParams } from '../db/schema';
import { ApiError, parseWith } from '../http';
import { assertMayGenerate } from '../kyc/gate';
import { holdForJob, InsufficientCreditsError, refundJob } from '../ledger';
import { assertPromptAllowed } from '../safety/prompt-filter';
import type { Broker } from './context';
import { leaseTtlMs } from './lease';
import { shareSecret, signedImageUrl } from './images';
import { jobVersionBump, jobView, type JobRow } from './views';
import { assertVariationInput } from './variations';

/** Body of POST /api/jobs and /api/jobs/quote; the params are checked against the model list. */
export const JobRequest = z.strictObject({ params: z.unknown() });

/** GET /api/jobs?limit=: newest first, at most 100. */
export const JobListQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(10) });

function validateParams(broker: Broker, raw: unknown): GenerationParams {
	return parseWith(paramsSchemaFor(broker.models.public()), raw, 'invalid_params');
}

export function quote(broker: Broker, raw: unknown) {
	const params = validateParams(broker, raw);
	return costOf(broker.models.get(params.model)!, params);
}

/**
 * Validates, checks the gate and the prompt, then holds the cost and inserts the job in one
 * transaction: any rejection before or inside it leaves no hold behind.
 */
export async function submitJob(broker: Broker, user: SessionUser, raw: unknown) {
	const params = validateParams(broker, raw);
	assertMayGenerate(user);
	await assertPromptAllowed(user, { prompt: params.prompt, negativePrompt: params.negativePrompt }, broker.db);
	await assertVariationInput(broker.db, user.id, params);
	const model = broker.models.get(params.model)!;
	const { cost, tier } = costOf(model, params);
	const stored: StoredParams = {
		...params,
		// Recorded, so the same request can be reproduced from the history.
		seed: params.seed ?? randomInt(0, UINT32_MAX),
		guidance: params.guidance ?? model.guidance.default
	};
	const pixels = params.width * params.height;
	const id = newId();
	let row: JobRow;
	let announce: () => void;
	try {
		[row, announce] = await broker.db.transaction(async (tx) => {
			await holdForJob(tx, user.id, id, cost);
			const [inserted] = await tx
				.insert(jobs)
				.values({ id, userId: user.id, params: stored, model: model.id, pixels, cost, tier, leaseTtlMs: leaseTtlMs(params.steps, pixels) })
				.returning();
			// The wake-up commits with the job: a sleeping Island hears of it as it becomes visible.
			return [inserted, await broker.bus.stage(tx, { type: 'queued', id, model: model.id, pixels })] as const;
		});
	} catch (err) {
		if (err instanceof InsufficientCreditsError) {
			throw new ApiError(402, 'insufficient_credits', `This image costs ${cost} credits; buy a pack to top up your balance.`);
		}
		throw err;
	}
	announce();
	return jobView(row);
}

/** The caller's own job, or null: another user's job is indistinguishable from a missing one. */
export async function findOwnJob(broker: Broker, userId: string, jobId: string) {
	const [row] = await broker.db
		.select()
		.from(jobs)
		.where(and(eq(jobs.id, jobId), eq(jobs.userId, userId)));
	return row ?? null;
}

export async function getOwnJob(broker: Broker, userId: string, jobId: string) {
	const row = await findOwnJob(broker, userId, jobId);
	if (!row) throw notFound();
	const [progress] = row.status === 'running' ? await broker.db.select().from(jobProgress).where(eq(jobProgress.jobId, row.id)) : [];
	// A link the owner can hand to anyone; it expires (SHARE_TTL_S).
	const shareUrl = row.imageId ? signedImageUrl(await shareSecret(broker.db), row.imageId) : null;
	return { ...jobView(row, progress), shareUrl };
}

/** Jobs whose picture the requester deleted are left out: deleting it takes it off the history. */
export async function listOwnJobs(broker: Broker, userId: string, limit: number) {
	const rows = await broker.db.select().from(jobs).where(and(eq(jobs.userId, userId), isNull(jobs.imageDeletedAt))).orderBy(desc(jobs.createdAt), desc(jobs.id)).limit(limit);
	return rows.map((r) => jobView(r));
}

/** Cancels a queued or running job and refunds its hold; the running Island gets 410 next time. */
export async function cancelJob(broker: Broker, userId: string, jobId: string) {
	const row = await broker.db.transaction(async (tx) => {
		const [cancelled] = await tx
			.update(jobs)
			.set({ status: 'cancelled', version: jobVersionBump, leaseExpiresAt: null, finishedAt: new Date(), updatedAt: new Date(), failureCode: 'cancelled', failureReason: 'Cancelled by the requester.' })
			.where(and(eq(jobs.id, jobId), eq(jobs.userId, userId), inArray(jobs.status, ['queued', 'running'])))
			.returning();
		if (!cancelled) return null;
		const refunded = await refundJob(tx, jobId);
		const [done] = await tx.update(jobs).set({ refunded }).where(eq(jobs.id, jobId)).returning();
		return done;
	});
	if (!row) {
		const existing = await findOwnJob(broker, userId, jobId);
		if (!existing) throw notFound();
		throw new ApiError(409, 'job_finished', `This job is already ${existing.status}.`);
	}
	await broker.bus.publish({ type: 'job', id: jobId });
	return jobView(row);
}

export function notFound() {
	return new ApiError(404, 'not_found', 'No such job.');
}
