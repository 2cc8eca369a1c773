import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { API_KEY_SCOPES, DEFAULT_API_KEY_SCOPES, type ApiKeyScope } from '../../../schemas/scopes';

export const users = pgTable(
	'users',
	{
		id: text('id').primaryKey(),
		email: text('email').notNull(),
		passwordHash: text('password_hash').notNull(),
		kycStatus: text('kyc_status', { enum: ['unverified', 'pending', 'verified', 'rejected'] })
			.notNull()
			.default('unverified'),
		// Granted only through the operator's claim link or by another admin (auth/admin.ts),
		// never from anything the person typed: signing up with an operator's email grants nothing.
		isAdmin: boolean('is_admin').notNull().default(false),
		// Set when the person deleted their account (privacy/account.ts): the row stays as the
		// ledger's reference, with the email freed and nothing personal left on it.
		deletedAt: timestamp('deleted_at', { withTimezone: true }),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [uniqueIndex('users_email_unique').on(sql`lower(${t.email})`)]
);

export const sessions = pgTable(
	'sessions',
	{
		// sha256 of the cookie value: a leaked table row can't be replayed as a cookie.
		id: text('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [index('sessions_user_idx').on(t.userId)]
);

export const apiKeys = pgTable(
	'api_keys',
	{
		id: text('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		name: text('name').notNull(),
		prefix: text('prefix').notNull(),
		keyHash: text('key_hash').notNull(),
		// What the key may do (schemas/scopes.ts); a session may do everything.
		scopes: text('scopes', { enum: API_KEY_SCOPES }).array().$type<ApiKeyScope[]>().notNull().default([...DEFAULT_API_KEY_SCOPES]),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
		lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
		revokedAt: timestamp('revoked_at', { withTimezone: true })
	},
	(t) => [uniqueIndex('api_keys_hash_unique').on(t.keyHash), index('api_keys_user_idx').on(t.userId)]
);
