import { writeFileSync } from 'node:fs';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { PGlite } from '@electric-sql/pglite';
import type { Pool } from 'pg';
import * as schema from './schema';
import { bundledMigrations } from './migrate';
import { lockDataDir } from './data-dir-lock';
import { timeQueries } from './query-times';
import { preparedStatementsOn } from './prepared';
import { usePreparedStatements } from './prepared-pglite';
import { namePostgresStatements } from './prepared-postgres';

/** Both drivers return `{ rows }`, so one typed query path serves PGlite and node-postgres. */
export interface RowsResultHKT extends PgQueryResultHKT {
	type: { rows: Record<string, unknown>[] };
}
export type Database = PgDatabase<RowsResultHKT, typeof schema>;
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Anything a query can run on: the database or an open transaction. */
export type Queryable = Database | Transaction;

export type DatabaseHandle =
	| { driver: 'pglite'; db: Database; pglite: PGlite; close(): Promise<void> }
	| { driver: 'postgres'; db: Database; pool: Pool; url: string; close(): Promise<void> };

export interface OpenOptions {
	/** postgres://… selects PostgreSQL; otherwise PGlite. */
	databaseUrl?: string;
	/** PGlite data directory; `memory://` for a throwaway database. */
	dataDir?: string;
	/** A dumped PGlite data dir (tests start from a migrated copy instead of running initdb). */
	loadDataDir?: Blob;
	poolSize?: number;
	/** Sees every statement drizzle sends (tests count them); default: DB_STATEMENT_LOG's counter. */
	logger?: { logQuery(query: string, params: unknown[]): void };
}

export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
	const handle = options.databaseUrl ? await openPostgres(options) : await openPglite(options);
	// The dialect's own migrate is what drizzle's file migrators call after reading the folder.
	const internals = handle.db as unknown as {
		dialect: { migrate(m: unknown, session: unknown, config: object): Promise<void> };
		session: unknown;
	};
	await internals.dialect.migrate(bundledMigrations(), internals.session, {
		migrationsFolder: ''
	});
	return handle;
}

async function openPostgres(options: OpenOptions): Promise<DatabaseHandle> {
	const url = options.databaseUrl!;
	const { default: pg } = await import('pg');
	const { drizzle } = await import('drizzle-orm/node-postgres');
	const pool = new pg.Pool({
		connectionString: url,
		max: options.poolSize ?? 20
	});
	// An idle client losing its connection must not crash the server.
	pool.on('error', (err) => console.error('postgres pool error:', err.message));
	if (preparedStatementsOn()) namePostgresStatements(pool);
	const db = drizzle(pool, { schema, logger: options.logger ?? statementLogger() }) as unknown as Database;
	return { driver: 'postgres', db, pool, url, close: () => pool.end() };
}

async function openPglite(options: OpenOptions): Promise<DatabaseHandle> {
	const { PGlite } = await import('@electric-sql/pglite');
	const { drizzle } = await import('drizzle-orm/pglite');
	const dataDir = options.dataDir ?? 'memory://';
	const unlock = dataDir.startsWith('memory://') ? () => {} : lockDataDir(dataDir);
	try {
		const pglite = await PGlite.create(dataDir, options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
		if (preparedStatementsOn()) await usePreparedStatements(pglite);
		timeQueries(pglite);
		const db = drizzle(pglite, { schema, logger: options.logger ?? statementLogger() }) as unknown as Database;
		return {
			driver: 'pglite',
			db,
			pglite,
			close: async () => {
				await pglite.close();
				unlock();
			}
		};
	} catch (err) {
		unlock();
		throw err;
	}
}

/**
 * DB_STATEMENT_LOG=<file>: counts every statement drizzle sends, by its text, and writes the
 * counts there at exit — the "statements per job" of a profile (docs/broker-costs.md).
 * Transactions add their BEGIN and COMMIT, which drizzle doesn't log. Off by default.
 */
function statementLogger(file = process.env.DB_STATEMENT_LOG): { logQuery(query: string): void } | undefined {
	if (!file) return undefined;
	const counts = new Map<string, number>();
	process.once('exit', () => {
		const sorted = [...counts].sort((a, b) => b[1] - a[1]);
		writeFileSync(file, JSON.stringify(Object.fromEntries(sorted), null, 1));
	});
	return { logQuery: (query) => counts.set(query, (counts.get(query) ?? 0) + 1) };
}
