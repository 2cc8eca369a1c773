import { boolean, index, integer, jsonb, pgTable, real, serial, text, timestamp } from 'drizzle-orm/pg-core';
import type { RecordedParams } from '../../../api/jobs';

/**
 * Known-answer jobs (trust/canaries.ts): ordinary prompts of a model's domain made by a
 * script, never a requester's. A vouched Island computes the answer once (a `reference` job);
 * Islands on probation then get canary jobs with the same params, and their results are
 * compared with it.
 */
export const canaries = pgTable(
	'canaries',
	{
		id: text('id').primaryKey(),
		model: text('model').notNull(),
		params: jsonb('params').$type<RecordedParams>().notNull(),
		pixels: integer('pixels').notNull(),
		// The reference result (an images row), null until a vouched Island computed it.
		referenceImageId: text('reference_image_id'),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [index('canaries_model_idx').on(t.model)]
);

/**
 * Every comparison the broker made between two results of the same params: the evidence an
 * admin reads on /admin (the two images side by side, the worst tile's distance).
 */
export const trustChecks = pgTable(
	'trust_checks',
	{
		id: serial('id').primaryKey(),
		// The Island whose result was checked, and the job it did.
		islandId: text('island_id').notNull(),
		jobId: text('job_id').notNull(),
		kind: text('kind', { enum: ['canary', 'check', 'dispute'] }).notNull(),
		// The other side: the Island that re-computed it (null for a canary's stored answer).
		otherIslandId: text('other_island_id'),
		imageId: text('image_id').notNull(),
		otherImageId: text('other_image_id').notNull(),
		same: boolean('same').notNull(),
		distance: real('distance').notNull(),
		detail: text('detail').notNull().default(''),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [index('trust_checks_island_idx').on(t.islandId, t.id)]
);

export type CanaryRow = typeof canaries.$inferSelect;
export type TrustCheckRow = typeof trustChecks.$inferSelect;
