import { index, integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './accounts';

/** Every prompt the filter refused, for the admin console (and to spot someone probing the list). */
export const promptRejections = pgTable(
	'prompt_rejections',
	{
		id: serial('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		prompt: text('prompt').notNull(),
		negativePrompt: text('negative_prompt'),
		// Which field matched and the list terms it matched (not shown to the requester).
		field: text('field', { enum: ['prompt', 'negativePrompt'] }).notNull(),
		terms: text('terms').array().notNull(),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [index('prompt_rejections_created_idx').on(t.createdAt), index('prompt_rejections_user_idx').on(t.userId)]
);

/**
 * Fixed-window request counters, one row per key ("jobs:user:<id>", "login:ip:<addr>", …).
 * Kept in the database so every instance sharing a PostgreSQL database counts together;
 * one upsert both starts a new window and counts within the current one.
 */
export const rateLimitCounters = pgTable(
	'rate_limit_counters',
	{
		key: text('key').primaryKey(),
		windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
		count: integer('count').notNull()
	},
	(t) => [index('rate_limit_counters_window_idx').on(t.windowStart)]
);
