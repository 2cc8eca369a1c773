// What the /image page reads from the broker's JSON (GET /api/jobs, /api/jobs/:id, the SSE
// events). Declared here rather than imported from $lib/server so the browser bundle never
// reaches into server modules, even for types.
import type { Tier } from '$lib/schemas/cost';
import type { JobFailureCode } from '$lib/schemas/failures';
import type { GenerationParams } from '$lib/schemas/generation';

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Params as the server recorded them: seed and guidance are always filled in. */
export type RecordedParams = GenerationParams & { seed: number; guidance: number; negativePrompt?: string | null };

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
	progress: { step: number; total: number } | null;
}

/** `status` event: where the job stands (place in line while queued). */
export interface StatusEvent {
	status: JobStatus;
	attempts: number;
	position: number;
	etaSeconds: number | null;
	islandsOnline: number;
	/** The running Island's backend, when the broker says (webgpu, wasm, node). */
	backend?: string | null;
}

export interface ProgressEvent {
	step: number;
	total: number;
	preview: string | null;
}

export interface CompletedEvent {
	status: 'completed';
	imageUrl: string;
	cost: number;
}

export interface FailedEvent {
	status: 'failed' | 'cancelled';
	failureCode: JobFailureCode | null;
	/** The job's failureReason. */
	reason: string | null;
	/** Attempts made; a failed job has used all it had. */
	attempts: number;
	refunded: number;
}
