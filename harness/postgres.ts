import { randomBytes } from 'node:crypto';

export type Driver = 'pglite' | 'postgres';

async function admin<T>(baseUrl: string, run: (client: import('pg').Client) => Promise<T>): Promise<T> {
	const { default: pg } = await import('pg');
	const client = new pg.Client({ connectionString: baseUrl });
	await client.connect();
	try {
		return await run(client);
	} finally {
		await client.end();
	}
}

/** Where benchmarks create their PostgreSQL databases: BENCH_DATABASE_URL, else TEST_DATABASE_URL. */
export function benchPostgresUrl(): string | undefined {
	return process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || undefined;
}

/** One database per test file or server: the migrations name the `public` schema. */
export async function createPostgresDatabase(baseUrl = process.env.TEST_DATABASE_URL) {
	// pg given no URL doesn't fail: it connects to localhost as $USER (libpq's defaults), so a
	// caller that lost its URL met "no PostgreSQL user name specified in startup packet" where
	// USER is unset, or another user's database where it is set.
	if (!baseUrl) throw new Error('No PostgreSQL URL to create a database from: set TEST_DATABASE_URL (tests) or BENCH_DATABASE_URL (benchmarks).');
	const name = `archipelago_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
	await admin(baseUrl, (c) => c.query(`create database "${name}"`));
	const url = new URL(baseUrl);
	url.pathname = `/${name}`;
	return {
		url: url.toString(),
		drop: () => admin(baseUrl, (c) => c.query(`drop database if exists "${name}" with (force)`)).then(() => undefined)
	};
}
