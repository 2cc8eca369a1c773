import { index, jsonb, pgTable, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { users } from './accounts';

const kycStatuses = ['unverified', 'pending', 'verified', 'rejected'] as const;

/**
 * Every change of users.kyc_status, append-only: users.kyc_status is the fast answer for the
 * job gate, this is the record of who or what changed it, when, why, and under which
 * provider reference (a regulator or a support request asks "why was I rejected?").
 */
export const kycEvents = pgTable(
	'kyc_events',
	{
		id: serial('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		fromStatus: text('from_status', { enum: kycStatuses }).notNull(),
		toStatus: text('to_status', { enum: kycStatuses }).notNull(),
		// 'user', 'admin' or 'provider' — with actorUserId for the first two.
		actor: text('actor', { enum: ['user', 'admin', 'provider'] }).notNull(),
		actorUserId: text('actor_user_id').references(() => users.id, { onDelete: 'set null' }),
		provider: text('provider', { enum: ['sandbox', 'stripe'] }).notNull(),
		// The provider's id for this verification (a Stripe VerificationSession id, a sandbox ref).
		reference: text('reference'),
		// A webhook event id: Stripe retries deliveries, and a retry must not write a second row.
		providerEventId: text('provider_event_id'),
		reason: text('reason').notNull().default(''),
		// What the person submitted (sandbox: legal name, date of birth, country) for the admin's review.
		details: jsonb('details').$type<Record<string, string>>(),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		index('kyc_events_user_idx').on(t.userId, t.id),
		index('kyc_events_reference_idx').on(t.reference),
		uniqueIndex('kyc_events_provider_event_unique').on(t.provider, t.providerEventId)
	]
);
