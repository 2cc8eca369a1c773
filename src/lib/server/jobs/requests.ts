// The requester's side: quote, submit, read, cancel.
import { randomInt } from 'node:crypto';
import { and, asc, count as sqlCount, desc, eq, inArray, isNull, max, sql } from 'drizzle-orm';
import { z } from 'zod';
import { costOf, UINT32_MAX, type GenerationParams } from '$lib/schemas/generation';
import { MAX_BATCH_SIZE, type JobView, type QuoteResponse, type SubmitResponse } from '$lib/api/jobs';
import type { SessionUser } from '../auth/users';
import { newId } from '../auth/tokens';
import type { Transaction } from '../db';
import { jobProgress, jobs, users, type StoredParams } from '../db/schema';
import { hotStatement } from '../db/hot';
import { ApiError, parseWith } from '../http';
import { once, type StoredResponse } from '../idempotency';
import { capLimits } from '../rate-limit/caps';
import { assertMayGenerate } from '../kyc/gate';
import { holdForJob, InsufficientCreditsError, refundJob } from '../ledger';
import { assertPromptAllowed } from '../safety/prompt-filter';
import type { Broker } from './context';
import { leaseTtlMs } from './lease';
import { shareSecret, signedImageUrl } from './images';
import { jobVersionBump, jobView } from './views';
import { assertVariationInput } from './variations';
import { inLiterals } from '../db/literal';

const ACTIVE = ['queued', 'running'] as const;

/** Body of POST /api/jobs and /api/jobs/quote: the params (checked against the model list) and how many images. */
export const JobRequest = z.strictObject({
	params: z.unknown(),
	count: z.number().int().min(1).max(MAX_BATCH_SIZE).default(1)
});

/** GET /api/jobs?limit=&batch=&active=: newest first, at most 100. */
export const JobListQuery = z.strictObject({
	limit: z.coerce.number().int().min(1).max(100).default(10),
	batch: z.string().min(1).max(100).optional().meta({ description: "Only this request's images (a batch id from POST /api/jobs)." }),
	active: z.enum(['true', 'false']).optional().meta({ description: '`true`: only the jobs in flight (queued or running), your queue.' })
});

function validateParams(broker: Broker, raw: unknown): GenerationParams {
	return parseWith(broker.models.paramsSchema(), raw, 'invalid_params');
}

export function quote(broker: Broker, raw: unknown, count = 1): QuoteResponse {
	const params = validateParams(broker, raw);
	const { cost, tier } = costOf(broker.models.get(params.model)!, params);
	return { cost, tier, count, total: cost * count };
}

const lockRequester = hotStatement((db) => db.select({ id: users.id }).from(users).where(eq(users.id, sql.placeholder('userId'))).for('no key update'));
const countActive = hotStatement((db) =>
	db
		.select({ n: sqlCount() })
		.from(jobs)
		.where(and(eq(jobs.userId, sql.placeholder('userId')), inLiterals(jobs.status, ACTIVE)))
);

/**
 * Locks the requester's row, so concurrent submits of one user take turns here and each counts
 * the jobs the ones before it committed; then refuses a request that would put more than
 * MAX_ACTIVE_JOBS_PER_USER of their images in flight. (NO KEY UPDATE: rows that reference the
 * user, such as this submit's jobs and holds or a settlement's image, need only KEY SHARE, which
 * it doesn't block.) On PGlite the submits take turns anyway (Broker.serialTransactions): no lock.
 */
async function admitToQueue(broker: Broker, tx: Transaction, userId: string, count: number) {
	if (!broker.serialTransactions) await lockRequester(tx, { userId });
	const [{ n }] = await countActive(tx, { userId });
	const limit = capLimits().activeJobsPerUser;
	if (n + count <= limit) return;
	const images = (k: number) => `${k} image${k === 1 ? '' : 's'}`;
	const message =
		n >= limit
			? `You have ${images(n)} queued or running, the most allowed at once (${limit}). Wait for one to finish, or cancel one.`
			: `You have ${images(n)} queued or running and may have ${limit} at once: ${images(count)} more would make ${n + count}. Ask for fewer, or wait for one to finish.`;
	throw new ApiError(429, 'too_many_jobs', message, undefined, { 'retry-after': '10' });
}

/** The columns a submit writes (the rest take their defaults). */
const JOB_COLUMNS = ['id', 'userId', 'params', 'model', 'pixels', 'cost', 'tier', 'leaseTtlMs', 'batchId', 'batchIndex'] as const;
type JobInsert = Pick<typeof jobs.$inferInsert, (typeof JOB_COLUMNS)[number]>;

/** A request of one image (most are): its job's insert, built once (db/hot.ts). A batch's insert is built each time. */
const insertJob = hotStatement<JobInsert, (typeof jobs.$inferSelect)[]>((db) =>
	db
		.insert(jobs)
		.values(Object.fromEntries(JOB_COLUMNS.map((column) => [column, sql.placeholder(column)])) as Record<keyof JobInsert, ReturnType<typeof sql.placeholder>>)
		.returning()
);

export interface SubmitOptions {
	/** Images in the request (seeds s, s+1, …), 1–MAX_BATCH_SIZE. */
	count?: number;
	/** A client's Idempotency-Key: a retried request answers the first one's 201 instead of queueing again. */
	idempotencyKey?: string | null;
}

/**
 * Validates, checks the gate and the prompt, then in one transaction: admits the request to the
 * user's queue, holds each image's cost (each job its own hold, so a failed image is refunded
 * alone) and inserts the jobs. Any rejection before or inside it leaves no hold behind: a
 * request that can't be paid in full is refused whole.
 */
export async function submitJobs(broker: Broker, user: SessionUser, raw: unknown, { count = 1, idempotencyKey = null }: SubmitOptions = {}) {
	const params = validateParams(broker, raw);
	assertMayGenerate(user);
	await assertPromptAllowed(user, { prompt: params.prompt, negativePrompt: params.negativePrompt }, broker.db);
	await assertVariationInput(broker.db, user.id, params);
	const model = broker.models.get(params.model)!;
	const { cost, tier } = costOf(model, params);
	// Recorded, so the same request can be reproduced from the history.
	const seed = params.seed ?? randomInt(0, UINT32_MAX);
	const guidance = params.guidance ?? model.guidance.default;
	const pixels = params.width * params.height;
	// Sorted: the jobs share their created_at (the transaction's), and Islands take queued jobs
	// by (created_at, id), so the images are made in seed order.
	const ids = Array.from({ length: count }, () => newId()).sort();
	// Typed, so a column added here and not to JOB_COLUMNS is a type error, not a value the one-image insert drops.
	const rows = ids.map((id, i): JobInsert => ({
		id,
		userId: user.id,
		params: { ...params, seed: (seed + i) % (UINT32_MAX + 1), guidance } satisfies StoredParams,
		model: model.id,
		pixels,
		cost,
		tier,
		leaseTtlMs: leaseTtlMs(params.steps, pixels),
		batchId: ids[0],
		batchIndex: i
	}));
	const announce: (() => void)[] = [];
	const enqueue = async (tx: Transaction): Promise<StoredResponse> => {
		await admitToQueue(broker, tx, user.id, count);
		for (const row of rows) await holdForJob(tx, user.id, row.id, cost);
		const inserted = rows.length === 1 ? await insertJob(tx, rows[0]) : await tx.insert(jobs).values(rows).returning();
		// The wake-ups commit with the jobs: a sleeping Island hears of each as it becomes visible.
		for (const r of rows) announce.push(await broker.bus.stage(tx, { type: 'queued', id: r.id, model: model.id, pixels }));
		const views = inserted.sort((a, b) => a.batchIndex - b.batchIndex).map((r) => jobView(r));
		const body: SubmitResponse = { job: views[0], jobs: views, batch: { id: ids[0], count, cost: cost * count } };
		return { status: 201, body: { ...body } };
	};
	let result: StoredResponse & { replayed: boolean };
	try {
		result = await broker.db.transaction(async (tx) =>
			idempotencyKey
				? once(tx, { userId: user.id, scope: 'jobs.submit', key: idempotencyKey }, { params: raw, count }, () => enqueue(tx))
				: { ...(await enqueue(tx)), replayed: false }
		);
	} catch (err) {
		if (err instanceof InsufficientCreditsError) {
			const price = count === 1 ? `This image costs ${cost} credits` : `These ${count} images cost ${cost * count} credits (${cost} each)`;
			throw new ApiError(402, 'insufficient_credits', `${price}; buy a pack to top up your balance.`);
		}
		throw err;
	}
	if (!result.replayed) announce.forEach((a) => a());
	return { body: result.body as unknown as SubmitResponse, replayed: result.replayed };
}

/** One image (the broker's own tests and callers that never batch). */
export async function submitJob(broker: Broker, user: SessionUser, raw: unknown) {
	return (await submitJobs(broker, user, raw)).body.job;
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

/** How a job list is ordered: newest request first, each request's images in seed order. */
const newestFirst = [desc(jobs.createdAt), desc(jobs.batchId), asc(jobs.batchIndex), desc(jobs.id)];

export interface JobFilter {
	limit: number;
	/** Only this request's images. */
	batchId?: string;
	/** Only the jobs in flight (queued or running): the user's queue. */
	active?: boolean;
}

/** The caller's own jobs, newest first. Jobs whose picture the requester deleted are left out: deleting it takes it off the history. */
export async function listOwnJobs(broker: Broker, userId: string, { limit, batchId, active }: JobFilter) {
	const rows = await broker.db
		.select()
		.from(jobs)
		.where(
			and(
				eq(jobs.userId, userId),
				isNull(jobs.imageDeletedAt),
				batchId ? eq(jobs.batchId, batchId) : undefined,
				active ? inLiterals(jobs.status, ACTIVE) : undefined
			)
		)
		.orderBy(...newestFirst)
		.limit(limit);
	return rows.map((r) => jobView(r));
}

/** The caller's newest `limit` requests, each whole (a history entry per request, never half a batch) but for the pictures they deleted. */
export async function listOwnBatches(broker: Broker, userId: string, limit: number): Promise<JobView[][]> {
	const newest = broker.db
		.select({ id: jobs.batchId })
		.from(jobs)
		.where(and(eq(jobs.userId, userId), isNull(jobs.imageDeletedAt)))
		.groupBy(jobs.batchId)
		.orderBy(desc(max(jobs.createdAt)), desc(jobs.batchId))
		.limit(limit);
	const rows = await broker.db
		.select()
		.from(jobs)
		.where(and(eq(jobs.userId, userId), isNull(jobs.imageDeletedAt), inArray(jobs.batchId, newest)))
		.orderBy(...newestFirst);
	const batches = new Map<string, JobView[]>();
	for (const row of rows) {
		const view = jobView(row);
		batches.set(view.batchId, [...(batches.get(view.batchId) ?? []), view]);
	}
	return [...batches.values()];
}

/** Cancels a queued or running job and refunds its hold; the running Island gets 410 next time. */
export async function cancelJob(broker: Broker, userId: string, jobId: string) {
	const row = await broker.db.transaction(async (tx) => {
		const [cancelled] = await tx
			.update(jobs)
			.set({ status: 'cancelled', version: jobVersionBump, leaseExpiresAt: null, finishedAt: new Date(), updatedAt: new Date(), failureCode: 'cancelled', failureReason: 'Cancelled by the requester.' })
			.where(and(eq(jobs.id, jobId), eq(jobs.userId, userId), inLiterals(jobs.status, ['queued', 'running'])))
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
