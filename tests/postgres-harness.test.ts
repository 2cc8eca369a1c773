import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

/**
 * Runs `code` (it gets the harness modules as `postgres` and `server`) in a new process whose
 * environment has no USER or PGUSER, as a service or container may run the benchmarks: pg
 * would take the user name from those when none reaches it.
 */
function withoutUser(code: string, env: Record<string, string | undefined>) {
	const clean: Record<string, string | undefined> = { ...process.env, USER: undefined, PGUSER: undefined, TEST_DATABASE_URL: undefined, BENCH_DATABASE_URL: undefined, ...env };
	for (const k of Object.keys(clean)) if (clean[k] === undefined) delete clean[k];
	const script = `Promise.all([import('./harness/postgres.ts'), import('./harness/server.ts')]).then(async ([postgres, server]) => { ${code} }).then(() => process.exit(0), (e) => { console.error('FAILED: ' + e.message); process.exit(3); })`;
	return spawnSync(join(root, 'node_modules/.bin/tsx'), ['-e', script], { cwd: root, env: clean as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 100_000 });
}

describe('PostgreSQL databases for tests and benchmarks', () => {
	it('refuses to create one without a URL, rather than connecting as whoever USER names', () => {
		// Before: pg, given no URL, connected to localhost with libpq's defaults, and with USER
		// unset failed with "no PostgreSQL user name specified in startup packet" (bench:abuse
		// --driver postgres never passed BENCH_DATABASE_URL on).
		const r = withoutUser('await postgres.createPostgresDatabase(postgres.benchPostgresUrl());', {});
		expect(r.stderr).toMatch(/FAILED: No PostgreSQL URL .*TEST_DATABASE_URL.*BENCH_DATABASE_URL/);
		expect(r.stderr).not.toMatch(/user name/);
		expect(r.status).toBe(3);
	});

	it.runIf(process.env.TEST_DATABASE_URL)('creates one, and serves from it, as the URL\'s user when USER is unset', () => {
		const r = withoutUser(
			`const s = await server.startServer('postgres', { postgresUrl: postgres.benchPostgresUrl() });
			const health = await (await fetch(s.url + '/api/health')).json();
			await s.dispose();
			if (health.database !== 'postgres') throw new Error('health: ' + JSON.stringify(health));`,
			{ BENCH_DATABASE_URL: process.env.TEST_DATABASE_URL }
		);
		expect(r.stderr).not.toMatch(/FAILED/);
		expect(r.status).toBe(0);
	});
});
