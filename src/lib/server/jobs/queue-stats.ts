import { and, count, eq, gt, sql } from 'drizzle-orm';
import type { Queryable } from '../db';
import { jobs } from '../db/schema';
import { islandsOnline } from './islands';
import type { JobRow } from './views';

/** Throughput is measured over this recent window, so the ETA follows today's Islands. */
const WINDOW_S = 600;

/** Where a queued job stands: its place in its model's line, an ETA from recent throughput, Islands online. */
export async function queueStatus(tx: Queryable, job: JobRow) {
	const online = await islandsOnline(tx);
	if (job.status !== 'queued') return { position: 0, etaSeconds: null, islandsOnline: online };
	const [ahead] = await tx
		.select({ n: count() })
		.from(jobs)
		// Only the same model's jobs are ahead: Islands pick jobs by model.
		.where(
			and(
				eq(jobs.status, 'queued'),
				eq(jobs.model, job.model),
				// Compared in SQL: a JS Date drops the microseconds PostgreSQL orders by.
				sql`(${jobs.createdAt}, ${jobs.id}) < (select j.created_at, j.id from jobs j where j.id = ${job.id})`
			)
		);
	const position = ahead.n + 1;
	const [recent] = await tx
		.select({ n: count(), since: sql<string | null>`min(${jobs.finishedAt})` })
		.from(jobs)
		.where(and(eq(jobs.status, 'completed'), gt(jobs.finishedAt, sql`now() - ${WINDOW_S} * interval '1 second'`)));
	let etaSeconds: number | null = null;
	if (recent.n > 0 && recent.since) {
		// At least a minute of window, so one quick job doesn't promise an instant result.
		const span = Math.max(60, (Date.now() - new Date(recent.since).getTime()) / 1000);
		etaSeconds = Math.ceil(position / (recent.n / span));
	}
	return { position, etaSeconds, islandsOnline: online };
}
