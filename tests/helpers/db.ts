import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle, type OpenOptions } from '../../src/lib/server/db/client';
import { createPostgresDatabase } from '../../harness/postgres';

export type { Driver } from '../../harness/postgres';
import type { Driver } from '../../harness/postgres';

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). */
export const drivers: Driver[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export type TestDatabase = DatabaseHandle & { dispose(): Promise<void> };

/** A fresh, migrated database: a PGlite copy of the dump, or a new PostgreSQL database. */
export async function openTestDatabase(driver: Driver, poolSize?: number, logger?: OpenOptions['logger']): Promise<TestDatabase> {
	if (driver === 'pglite') {
		const dump = new Blob([readFileSync(inject('pgliteDump'))]);
		const handle = await openDatabase({ dataDir: 'memory://', loadDataDir: dump, logger });
		return Object.assign(handle, { dispose: () => handle.close() });
	}
	const { url, drop } = await createPostgresDatabase();
	const handle = await openDatabase({ databaseUrl: url, poolSize, logger });
	return Object.assign(handle, {
		async dispose() {
			await handle.close();
			await drop();
		}
	});
}

