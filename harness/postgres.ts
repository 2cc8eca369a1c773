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

/** One database per test file or server: the migrations name the `public` schema. */
export async function createPostgresDatabase(baseUrl = process.env.TEST_DATABASE_URL!) {
	const name = `archipelago_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
	await admin(baseUrl, (c) => c.query(`create database "${name}"`));
	const url = new URL(baseUrl);
	url.pathname = `/${name}`;
	return {
		url: url.toString(),
		drop: () => admin(baseUrl, (c) => c.query(`drop database if exists "${name}" with (force)`)).then(() => undefined)
	};
}
