// The requester's side of the API contract: what GET /api/jobs, GET /api/jobs/:id, the 201 of
// a submit and the SSE events of /api/jobs/:id/events carry. Declared once, here; the server's
// answers are typed against it (views.ts, stream.ts) and the pages read it. Plain types, no
// zod: the page trusts its own server, and zod stays out of /image's first load.
import type { Tier } from '../schemas/cost';
import type { JobFailureCode } from '../schemas/failures';
import type { GenerationParams } from '../schemas/generation';

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * What a job is for: a requester's (`user`), or the platform's verification work, which an
 * Island can't tell from a requester's job: a canary (known answer) for an Island on
 * probation, a reference run that computes a canary's answer, a check (a spot check's
 * re-computation on another owner's Island), a rerun (a quarantined Island's result redone).
 */
export const JOB_KINDS = ['user', 'canary', 'reference', 'check', 'rerun'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * Whether a requester's result was re-computed elsewhere: unchecked (most are: spot checks
 * take a fraction), checking, confirmed (another owner's Island drew the same picture),
 * disputed (the two differ; a third run decides), redoing (its Island was caught lying; a
 * trusted Island redraws it, free), replaced (the redrawn picture is the one shown now).
 */
export const JOB_VERIFICATIONS = ['unchecked', 'checking', 'confirmed', 'disputed', 'redoing', 'replaced'] as const;
export type JobVerification = (typeof JOB_VERIFICATIONS)[number];

/**
 * Images one request may ask for: a batch of 1–4 with seeds s, s+1, …, each image its own job
 * with its own hold (a failed one is refunded alone).
 */
export const MAX_BATCH_SIZE = 4;

/** Params as the server recorded them: seed and guidance are always filled in, so a result can be reproduced. */
export type RecordedParams = GenerationParams & { seed: number; guidance: number };

export interface JobView {
	id: string;
	status: JobStatus;
	params: RecordedParams;
	cost: number;
	tier: Tier;
	attempts: number;
	createdAt: string;
	startedAt: string | null;
	finishedAt: string | null;
	/** Why it failed or was cancelled (null otherwise, and on jobs older than the codes). */
	failureCode: JobFailureCode | null;
	/** The detail in words: the Island's own reason, the PNG check's finding. */
	failureReason: string | null;
	refunded: number;
	imageUrl: string | null;
	/** When the requester deleted the picture (imageUrl is then null, share links stop working). */
	imageDeletedAt: string | null;
	progress: { step: number; total: number } | null;
	/** Whether another Island re-computed the result (docs/trust.md). */
	verification: JobVerification;
	/** A signed, expiring link to the image for anyone (GET /api/jobs/:id only). */
	shareUrl?: string | null;
	/** The request it was made by: the id of that request's first job (a lone job: its own id). */
	batchId: string;
	/** Its place in that request, from 0: its seed is the first job's seed + batchIndex. */
	batchIndex: number;
}

/** The 201 of POST /api/jobs: every job of the request, in seed order (`job` is the first). */
export interface SubmitResponse {
	job: JobView;
	jobs: JobView[];
	batch: { id: string; count: number; cost: number };
}

/** The answer to POST /api/jobs/quote: the price of one image and of the whole request. */
export interface QuoteResponse {
	cost: number;
	tier: Tier;
	count: number;
	total: number;
}

/** `status` event: where the job stands (place in line while queued). */
export interface StatusEvent {
	status: JobStatus;
	attempts: number;
	position: number;
	etaSeconds: number | null;
	islandsOnline: number;
	/** The running Island's backend (webgpu, wasm, node): it explains the speed. */
	backend: string | null;
}

/** `progress` event: the step reached and a small preview (a data: URL). */
export interface ProgressEvent {
	step: number;
	total: number;
	preview: string | null;
}

/** `completed` event: the last one of a job with an image. */
export interface CompletedEvent {
	status: 'completed';
	/** null once the requester deleted the picture. */
	imageUrl: string | null;
	cost: number;
	/** Usually 'unchecked', or 'checking' when a spot check was queued with the result. */
	verification: JobVerification;
}

/** `failed` event: the last one of a failed or cancelled job. */
export interface FailedEvent {
	status: 'failed' | 'cancelled';
	failureCode: JobFailureCode | null;
	/** The job's failureReason. */
	reason: string | null;
	/** Attempts made; a failed job has used all it had. */
	attempts: number;
	refunded: number;
}

/** Every SSE event of a job stream, by its `event:` name. */
export interface JobEvents {
	status: StatusEvent;
	progress: ProgressEvent;
	completed: CompletedEvent;
	failed: FailedEvent;
}

/** The events of GET /api/jobs/events?ids=…: a job's events, each with the job's id. */
export type JobsStreamEvents = { [K in keyof JobEvents]: JobEvents[K] & { id: string } };
