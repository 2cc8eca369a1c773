// Deleting a picture: the requester's right to take back what they made. The job row stays
// (its cost is in the ledger, and ledger rows are never rewritten), without its picture or
// its prompt, and out of the history; share links stop working since the image row is gone.
import { and, eq, inArray, isNotNull, isNull, or, sql, type SQLWrapper } from 'drizzle-orm';
import type { Queryable } from '../db';
import { images, jobs } from '../db/schema';
import { ApiError } from '../http';
import type { Broker } from '../jobs/context';
import { findOwnJob, notFound } from '../jobs/requests';
import { jobVersionBump, jobView } from '../jobs/views';
import { inLiterals } from '../db/literal';

/** The params with the prompt erased: the only words of the person's the job kept. */
const erasedParams = sql`jsonb_set(${jobs.params} - 'negativePrompt', '{prompt}', '""'::jsonb)`;

/**
 * Everything drawn for these requester jobs goes: their pictures, and copies drawn by spot
 * checks and reruns (stored as the requester's). Checks and reruns still to come are cancelled
 * (an Island holding one gets 410 on its next call): there is nothing left to compare, and a
 * rerun would draw the picture again. Their prompts are erased too.
 */
export async function erasePictures(tx: Queryable, jobIds: string[] | SQLWrapper) {
	if (Array.isArray(jobIds) && jobIds.length === 0) return;
	await tx
		.update(jobs)
		.set({ status: 'cancelled', version: jobVersionBump, leaseExpiresAt: null, finishedAt: sql`now()`, updatedAt: sql`now()`, failureCode: 'cancelled', failureReason: 'The requester deleted the picture.' })
		.where(and(inArray(jobs.subjectJobId, jobIds), inLiterals(jobs.status, ['queued', 'running'])));
	const copies = tx.select({ id: jobs.id }).from(jobs).where(inArray(jobs.subjectJobId, jobIds));
	await tx.delete(images).where(or(inArray(images.jobId, jobIds), inArray(images.jobId, copies)));
	await tx.update(jobs).set({ params: erasedParams }).where(or(inArray(jobs.id, jobIds), inArray(jobs.subjectJobId, jobIds)));
}

/** DELETE /api/jobs/:id/image: the owner's completed job loses its picture; 404 for anyone else's. */
export async function deleteJobImage(broker: Broker, userId: string, jobId: string) {
	const row = await broker.db.transaction(async (tx) => {
		const [job] = await tx
			.update(jobs)
			.set({ imageId: null, imageDeletedAt: sql`now()`, version: jobVersionBump, updatedAt: sql`now()` })
			.where(and(eq(jobs.id, jobId), eq(jobs.userId, userId), eq(jobs.kind, 'user'), isNotNull(jobs.imageId), isNull(jobs.imageDeletedAt)))
			.returning({ id: jobs.id });
		if (!job) return null;
		await erasePictures(tx, [job.id]);
		const [done] = await tx.select().from(jobs).where(eq(jobs.id, job.id));
		return done;
	});
	if (!row) {
		const existing = await findOwnJob(broker, userId, jobId);
		if (!existing) throw notFound();
		const why = existing.imageDeletedAt ? 'Its picture was already deleted.' : 'This job has no picture.';
		throw new ApiError(409, 'no_image', why);
	}
	await broker.bus.publish({ type: 'job', id: row.id });
	return jobView(row);
}
