// Transitions shared by the Island's fail call, a rejected result and the reaper. Each is
// one guarded UPDATE: a row that no longer matches the guard is simply not touched.
import { and, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Queryable } from '../db';
import type { BrokerEvent } from '../events';
import { jobProgress, jobs } from '../db/schema';
import { refundJob } from '../ledger';
import type { JobFailureCode } from '$lib/schemas/failures';
import { MAX_ATTEMPTS, type Broker } from './context';
import { jobVersionBump, type JobRow } from './views';
import { chargeFailures } from '../trust/failures';
import { queuedEvent } from '../trust/eligibility';
import { eqLiteral } from '../db/literal';
import { plannedEachTime } from '../db/prepared';

/** Why an attempt ended: the code programs read, and the detail in words people read. */
export interface AttemptFailure {
	code: Exclude<JobFailureCode, 'cancelled'>;
	reason: string;
}

/**
 * Puts running jobs matching `guard` back in the queue, or fails them (and refunds the
 * hold) when they have used their attempts, recording this attempt's failure as the job's.
 * The Island that gave up is charged for it (trust/failures.ts) and its owner never gets the
 * job back; a job fails once MAX_ATTEMPTS owners gave up on it (a vouched Island may retry,
 * within twice that many claims). A canary fails at once: only its Island could run it.
 * Returns the rows as they ended up, and what else to announce after commit (an Island the
 * failure count quarantined requeues its jobs and redraws its results).
 */
export async function requeueOrFail(tx: Queryable, guard: SQL, failure: AttemptFailure, options: { chargeIslands?: boolean } = {}): Promise<Requeued> {
	// The owner of the Island that held it, unless that Island is vouched (the operator's own).
	const owner = sql`(select i.user_id from islands i where i.id = ${jobs.islandId} and not i.vouched)`;
	const failedOwners = sql`case when ${owner} is null or ${owner} = any(${jobs.failedOwners}) then ${jobs.failedOwners} else array_append(${jobs.failedOwners}, ${owner}) end`;
	const exhausted = sql`(${jobs.kind} = 'canary' or cardinality(${failedOwners}) >= ${MAX_ATTEMPTS} or ${jobs.attempts} >= ${MAX_ATTEMPTS * 2})`;
	const rows = await tx
		.update(jobs)
		.set({
			status: sql`case when ${exhausted} then 'failed' else 'queued' end`,
			version: jobVersionBump,
			failedOwners,
			leaseExpiresAt: null,
			failureCode: sql`case when ${exhausted} then ${failure.code} else null end`,
			failureReason: sql`case when ${exhausted} then ${failure.reason} else null end`,
			finishedAt: sql`case when ${exhausted} then now() else null end`,
			updatedAt: sql`now()`
		})
		.where(and(eqLiteral(jobs.status, 'running'), guard))
		.returning();
	if (rows.length === 0) return { rows, events: [] };
	await tx.delete(jobProgress).where(inArray(jobProgress.jobId, rows.map((r) => r.id)));
	const events = options.chargeIslands === false ? [] : await chargeFailures(tx, rows.map((r) => r.islandId).filter((id): id is string => id !== null));
	const out: JobRow[] = [];
	for (const row of rows) {
		if (row.status !== 'failed') {
			out.push(row);
			continue;
		}
		const refunded = await refundJob(tx, row.id);
		const [updated] = await tx.update(jobs).set({ refunded }).where(eq(jobs.id, row.id)).returning();
		out.push(updated);
	}
	return { rows: out, events };
}

export interface Requeued {
	rows: JobRow[];
	events: BrokerEvent[];
}

/** After commit: wake Islands for requeued jobs, every watcher of a changed job, and `events`. */
export async function announce(broker: Broker, rows: JobRow[], events: BrokerEvent[] = []) {
	for (const row of rows) {
		if (row.status === 'queued') await broker.bus.publish(queuedEvent(row));
		await broker.bus.publish({ type: 'job', id: row.id });
	}
	for (const event of events) await broker.bus.publish(event);
}

/** Leases past their expiry (tab closed, Island crashed) go back to the queue. */
export async function reapExpiredLeases(broker: Broker): Promise<JobRow[]> {
	const { rows, events } = await broker.db.transaction((tx) =>
		// Planned each time: a generic plan made on a new database walks every running job here.
		requeueOrFail(tx, and(plannedEachTime(), lt(jobs.leaseExpiresAt, sql`now()`))!, {
			code: 'island_unresponsive',
			reason: 'The Island working on it stopped responding.'
		})
	);
	await announce(broker, rows, events);
	return rows;
}

/**
 * A claim whose Island vanished before the answer left: the job goes straight back to the
 * queue and the attempt isn't counted (nobody worked on it).
 */
export async function releaseClaim(broker: Broker, jobId: string, leaseHash: string) {
	const rows = await broker.db
		.update(jobs)
		.set({ status: 'queued', attempts: sql`${jobs.attempts} - 1`, version: jobVersionBump, leaseExpiresAt: null, islandId: null, updatedAt: sql`now()` })
		.where(and(eq(jobs.id, jobId), eqLiteral(jobs.status, 'running'), eq(jobs.leaseTokenHash, leaseHash)))
		.returning();
	await announce(broker, rows);
}

/**
 * Deletes the progress rows of jobs no longer running; returns how many. A completed job's row
 * is left by its result (one statement less on every job) and removed here, many at a time;
 * nothing shows the progress of a job that isn't running.
 */
export async function deleteFinishedProgress(tx: Queryable): Promise<number> {
	const gone = await tx
		.delete(jobProgress)
		// Planned each time: a generic plan made on a new database walks every running job for each row.
		.where(and(plannedEachTime(), sql`not exists (select 1 from ${jobs} where ${jobs.id} = ${jobProgress.jobId} and ${jobs.status} = 'running')`))
		.returning({ jobId: jobProgress.jobId });
	return gone.length;
}
