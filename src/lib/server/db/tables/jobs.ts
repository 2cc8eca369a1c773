import { sql } from 'drizzle-orm';
import { bigint, boolean, customType, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { JOB_FAILURE_CODES, type JobFailureCode } from '../../../schemas/failures';
import type { Tier } from '../../../schemas/generation';
import { users } from './accounts';
import { JOB_KINDS, JOB_STATUSES, JOB_VERIFICATIONS, type RecordedParams } from '../../../api/jobs';
import { ISLAND_TRUST_STATES } from '../../../api/islands';

export { JOB_STATUSES, type JobStatus } from '../../../api/jobs';

/** PNG bytes; both drivers hand back a Uint8Array (node-postgres a Buffer, which is one). */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
	dataType: () => 'bytea',
	toDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength))
});

/** Params as stored: the contract's RecordedParams (seed and guidance always recorded). */
export type StoredParams = RecordedParams;

export const islands = pgTable(
	'islands',
	{
		id: text('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		// sha256 of the `isl_…` bearer token.
		tokenHash: text('token_hash').notNull(),
		name: text('name').notNull(),
		backend: text('backend', { enum: ['webgpu', 'wasm', 'node'] }),
		models: jsonb('models').$type<string[]>().notNull().default([]),
		maxPixels: integer('max_pixels').notNull().default(262144),
		lastHeartbeatAt: timestamp('last_heartbeat_at', { withTimezone: true }),
		online: boolean('online').notNull().default(false),
		jobsDone: integer('jobs_done').notNull().default(0),
		builtin: boolean('builtin').notNull().default(false),
		// Trust (trust/ and docs/trust.md): a new Island runs only canaries until it has passed
		// TRUST_PROBATION_CANARIES of them; a wrong result quarantines it (no more claims).
		trust: text('trust', { enum: ISLAND_TRUST_STATES }).notNull().default('probation'),
		// The operator's own (the built-in Island) or one an admin vouched for: its results are
		// references (canaries' answers, disputes' deciding run) and are never spot-checked.
		vouched: boolean('vouched').notNull().default(false),
		canariesPassed: integer('canaries_passed').notNull().default(0),
		trustedAt: timestamp('trusted_at', { withTimezone: true }),
		quarantinedAt: timestamp('quarantined_at', { withTimezone: true }),
		quarantineReason: text('quarantine_reason'),
		// Attempts it gave up or dropped: an Island's failures are not free (suspicion, then quarantine).
		attemptsFailed: integer('attempts_failed').notNull().default(0),
		// Results faster than its claimed backend can physically produce.
		speedFlags: integer('speed_flags').notNull().default(0),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [uniqueIndex('islands_token_unique').on(t.tokenHash), index('islands_user_idx').on(t.userId)]
);

export const images = pgTable(
	'images',
	{
		id: text('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		jobId: text('job_id').notNull(),
		width: integer('width').notNull(),
		height: integer('height').notNull(),
		bytes: bytea('bytes').notNull(),
		// Set when its Island was caught lying and the picture was redrawn: the requester and
		// share links no longer get it; it stays as evidence for the admin.
		withdrawnAt: timestamp('withdrawn_at', { withTimezone: true }),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [uniqueIndex('images_job_unique').on(t.jobId)]
);

export const jobs = pgTable(
	'jobs',
	{
		id: text('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		params: jsonb('params').$type<StoredParams>().notNull(),
		// Copied out of params so the claim query can filter by capability on plain columns.
		model: text('model').notNull(),
		pixels: integer('pixels').notNull(),
		cost: bigint('cost', { mode: 'number' }).notNull(),
		tier: text('tier').$type<Tier>().notNull(),
		status: text('status', { enum: JOB_STATUSES }).notNull().default('queued'),
		// Bumped by every change a watcher could see: it is the SSE event id.
		version: integer('version').notNull().default(1),
		attempts: integer('attempts').notNull().default(0),
		leaseTtlMs: integer('lease_ttl_ms').notNull(),
		leaseTokenHash: text('lease_token_hash'),
		leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
		islandId: text('island_id').references(() => islands.id, { onDelete: 'set null' }),
		// Why it failed or was cancelled: a code from JOB_FAILURE_CODES for programs, and the
		// detail in words (the Island's own reason, the PNG check's finding) for people.
		failureCode: text('failure_code', { enum: JOB_FAILURE_CODES }).$type<JobFailureCode>(),
		failureReason: text('failure_reason'),
		refunded: bigint('refunded', { mode: 'number' }).notNull().default(0),
		imageId: text('image_id'),
		// A variation: the lease (hash) that fetched its input picture; only that lease's result counts.
		inputLeaseHash: text('input_lease_hash'),
		// The requester deleted the picture (privacy/images.ts): the row stays for the ledger,
		// with its prompt erased and out of the history.
		imageDeletedAt: timestamp('image_deleted_at', { withTimezone: true }),
		// What the job is for (trust/): a requester's job, or the platform's own verification work.
		kind: text('kind', { enum: JOB_KINDS }).notNull().default('user'),
		// check/rerun: the requester's job being re-computed; canary/reference: the canary.
		subjectJobId: text('subject_job_id'),
		canaryId: text('canary_id'),
		// canary: the one Island on probation it was made for.
		targetIslandId: text('target_island_id'),
		// Owners whose Islands failed or dropped it (never handed back to them; a job fails once
		// MAX_ATTEMPTS owners gave up), and owners barred from a check (the checked Island's own).
		failedOwners: text('failed_owners').array().notNull().default(sql`'{}'::text[]`),
		barredOwners: text('barred_owners').array().notNull().default(sql`'{}'::text[]`),
		// A requester's job: whether another Island re-computed it, and how that ended.
		verification: text('verification', { enum: JOB_VERIFICATIONS }).notNull().default('unchecked'),
		// The Island owner's share: held in the Island's escrow until its window passes.
		earned: bigint('earned', { mode: 'number' }).notNull().default(0),
		escrow: text('escrow', { enum: ['held', 'released', 'forfeited'] }),
		// A requester's request for several images (seeds s, s+1, …): every job of it carries the
		// id of its first job (a lone job, its own id), and its place in the request.
		batchId: text('batch_id'),
		batchIndex: integer('batch_index').notNull().default(0),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
		startedAt: timestamp('started_at', { withTimezone: true }),
		finishedAt: timestamp('finished_at', { withTimezone: true }),
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		index('jobs_queue_idx').on(t.createdAt, t.id).where(sql`${t.status} = 'queued'`),
		index('jobs_lease_idx').on(t.leaseExpiresAt).where(sql`${t.status} = 'running'`),
		// Every claim counts the leases its Island holds: without this, the Island's whole history.
		index('jobs_running_island_idx').on(t.islandId).where(sql`${t.status} = 'running'`),
		index('jobs_user_idx').on(t.userId, t.createdAt),
		index('jobs_finished_idx').on(t.finishedAt).where(sql`${t.status} = 'completed'`),
		index('jobs_island_idx').on(t.islandId, t.finishedAt),
		index('jobs_escrow_idx').on(t.finishedAt).where(sql`${t.escrow} = 'held'`),
		index('jobs_subject_idx').on(t.subjectJobId).where(sql`${t.subjectJobId} is not null`),
		index('jobs_batch_idx').on(t.batchId).where(sql`${t.batchId} is not null`),
		// An Island on probation: its canaries in flight, and the canaries it was already given (trust/canaries.ts).
		index('jobs_target_island_idx').on(t.targetIslandId, t.canaryId).where(sql`${t.targetIslandId} is not null`),
		// The per-user limit on jobs in flight counts these at every submit.
		index('jobs_active_user_idx').on(t.userId).where(sql`${t.status} in ('queued', 'running')`)
	]
);

/** The latest progress of a running job; kept apart so the jobs row stays small. */
export const jobProgress = pgTable('job_progress', {
	jobId: text('job_id')
		.primaryKey()
		.references(() => jobs.id, { onDelete: 'cascade' }),
	step: integer('step').notNull(),
	total: integer('total').notNull(),
	// A data: URL (small, the Island downsizes it), shown as-is by the page.
	preview: text('preview'),
	updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
});

/** Server secrets generated once and shared by every instance (e.g. the share-link key). */
export const serverSecrets = pgTable('server_secrets', {
	name: text('name').primaryKey(),
	value: text('value').notNull(),
	createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
});
