import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, primaryKey, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { users } from './accounts';

/**
 * Cached balances; the entries are the truth and the invariant check compares the two.
 * A cache lets a hold be one guarded UPDATE (race-free on PostgreSQL without table locks).
 */
export const ledgerAccounts = pgTable('ledger_accounts', {
	id: text('id').primaryKey(),
	// 64-bit: platform:grants falls with every beta purchase and would pass 2^31 in hours of abuse.
	// Read as JS numbers, exact below 2^53.
	balance: bigint('balance', { mode: 'number' }).notNull().default(0),
	// Only platform:grants (beta credits are minted from it) and the platform's fee accounts
	// (verification work is paid from them) may go negative: ledger/post.ts.
	mayGoNegative: integer('may_go_negative').notNull().default(0),
	// A deleted user's accounts: emptied by a balanced `close` transaction, then nothing moves
	// in or out of them again (post.ts refuses it; checkLedger checks they hold 0).
	closedAt: timestamp('closed_at', { withTimezone: true })
});

export const ledgerTransactions = pgTable(
	'ledger_transactions',
	{
		id: serial('id').primaryKey(),
		// release: escrowed earnings paid out once their window passed; forfeit: a quarantined Island's escrow back to the platform;
		// close: a deleted account's credits back to the platform.
		kind: text('kind', { enum: ['purchase', 'hold', 'refund', 'settle', 'release', 'forfeit', 'close'] }).notNull(),
		userId: text('user_id').references(() => users.id),
		jobId: text('job_id'),
		memo: text('memo').notNull().default(''),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		// The database itself refuses a second hold, refund or settlement of one job.
		uniqueIndex('ledger_tx_job_kind_unique').on(t.jobId, t.kind).where(sql`${t.jobId} is not null`),
		index('ledger_tx_user_idx').on(t.userId, t.id)
	]
);

export const ledgerEntries = pgTable(
	'ledger_entries',
	{
		id: serial('id').primaryKey(),
		transactionId: integer('transaction_id')
			.notNull()
			.references(() => ledgerTransactions.id),
		accountId: text('account_id')
			.notNull()
			.references(() => ledgerAccounts.id),
		amount: bigint('amount', { mode: 'number' }).notNull()
	},
	(t) => [index('ledger_entries_tx_idx').on(t.transactionId), index('ledger_entries_account_idx').on(t.accountId)]
);

export const idempotencyKeys = pgTable(
	'idempotency_keys',
	{
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		key: text('key').notNull(),
		scope: text('scope').notNull(),
		requestHash: text('request_hash').notNull(),
		responseStatus: integer('response_status').notNull(),
		responseBody: jsonb('response_body').notNull(),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [primaryKey({ columns: [t.userId, t.scope, t.key] })]
);
