import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/lib/server/db/client';

export type Driver = 'pglite' | 'postgres';

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). */
export const drivers: Driver[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export type TestDatabase = DatabaseHandle & { dispose(): Promise<void> };

/** A fresh, migrated database: a PGlite copy of the dump, or a new PostgreSQL database. */
export async function openTestDatabase(driver: Driver, poolSize?: number): Promise<TestDatabase> {
	if (driver === 'pglite') {
		const dump = new Blob([readFileSync(inject('pgliteDump'))]);
		const handle = await openDatabase({ dataDir: 'memory://', loadDataDir: dump });
		return Object.assign(handle, { dispose: () => handle.close() });
	}
	const { url, drop } = await createPostgresDatabase();
	const handle = await openDatabase({ databaseUrl: url, poolSize });
	return Object.assign(handle, {
		async dispose() {
			await handle.close();
			await drop();
		}
	});
}

async function admin<T>(run: (client: import('pg').Client) => Promise<T>): Promise<T> {
	const { default: pg } = await import('pg');
	const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
	await client.connect();
	try {
		return await run(client);
	} finally {
		await client.end();
	}
}

/** One database per test file or server: the migrations name the `public` schema. */
export async function createPostgresDatabase() {
	const name = `archipelago_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
	await admin((c) => c.query(`create database "${name}"`));
	const url = new URL(process.env.TEST_DATABASE_URL!);
	url.pathname = `/${name}`;
	return {
		url: url.toString(),
		drop: () => admin((c) => c.query(`drop database if exists "${name}" with (force)`)).then(() => undefined)
	};
}
