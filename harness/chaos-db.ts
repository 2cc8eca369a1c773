// Reads a chaos run's database directly, once the broker is down (PGlite is one process's at a
// time): what the API doesn't show, or shouldn't be trusted to show, about its own ledger.

/** Runs each query of `queries` and returns its rows under the same name. */
export async function readDatabase<Q extends Record<string, string>>(databaseEnv: Record<string, string>, queries: Q): Promise<{ [K in keyof Q]: Record<string, unknown>[] }> {
	const out = {} as { [K in keyof Q]: Record<string, unknown>[] };
	if (databaseEnv.DATABASE_URL) {
		const { default: pg } = await import('pg');
		const client = new pg.Client({ connectionString: databaseEnv.DATABASE_URL });
		await client.connect();
		try {
			for (const key of Object.keys(queries) as (keyof Q)[]) out[key] = (await client.query(queries[key])).rows;
		} finally {
			await client.end();
		}
		return out;
	}
	const { PGlite } = await import('@electric-sql/pglite');
	const db = await PGlite.create(databaseEnv.DATA_DIR);
	try {
		for (const key of Object.keys(queries) as (keyof Q)[]) out[key] = (await db.query<Record<string, unknown>>(queries[key])).rows;
	} finally {
		await db.close();
	}
	return out;
}
