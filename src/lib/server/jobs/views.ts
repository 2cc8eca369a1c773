import { sql } from 'drizzle-orm';
import { jobs } from '../db/schema';
import type { JobView } from '$lib/api';

export type JobRow = typeof jobs.$inferSelect;

export const imageUrl = (imageId: string) => `/api/images/${imageId}.png`;

/** A job as its owner sees it (GET /api/jobs, /api/jobs/:id, the 201 of a submit). */
export function jobView(row: JobRow, progress?: { step: number; total: number } | null): JobView {
	return {
		id: row.id,
		status: row.status,
		params: row.params,
		cost: row.cost,
		tier: row.tier,
		attempts: row.attempts,
		createdAt: row.createdAt.toISOString(),
		startedAt: row.startedAt?.toISOString() ?? null,
		finishedAt: row.finishedAt?.toISOString() ?? null,
		failureCode: row.failureCode,
		failureReason: row.failureReason,
		refunded: row.refunded,
		imageUrl: row.imageId ? imageUrl(row.imageId) : null,
		imageDeletedAt: row.imageDeletedAt?.toISOString() ?? null,
		progress: row.status === 'running' && progress ? { step: progress.step, total: progress.total } : null,
		verification: row.verification,
		batchId: row.batchId ?? row.id,
		batchIndex: row.batchIndex
	};
}
export type { JobView };

/** `version = version + 1`: every change a watcher sees gets a new SSE event id. */
export const jobVersionBump = sql`${jobs.version} + 1`;
