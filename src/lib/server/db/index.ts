import { openDatabase, type DatabaseHandle } from './client';

let current: DatabaseHandle | null = null;

/** Opens the app's database once, from the environment (called by the `init` hook). */
export async function initDatabase(env: NodeJS.ProcessEnv = process.env): Promise<DatabaseHandle> {
	if (current) return current;
	current = await openDatabase({
		databaseUrl: env.DATABASE_URL || undefined,
		dataDir: env.DATA_DIR || 'data',
		poolSize: env.DATABASE_POOL_SIZE ? Number(env.DATABASE_POOL_SIZE) : undefined
	});
	return current;
}

export function dbHandle(): DatabaseHandle {
	if (!current) throw new Error('database not initialised (the init hook opens it)');
	return current;
}

export function db() {
	return dbHandle().db;
}

export async function closeDatabase(): Promise<void> {
	const handle = current;
	current = null;
	await handle?.close();
}

export type { Database, Queryable, Transaction } from './client';
