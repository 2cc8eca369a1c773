import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import pg from 'pg';

describe.each(drivers)('rate limits on %s', (driver) => {
	let server: TestServer;
	beforeAll(async () => {
		// The real default of 100 requests/min on /api/jobs*; login limits lowered to keep the test short.
		server = await startServer(driver, { env: { LOGIN_LIMIT_PER_ACCOUNT: '3', LOGIN_LIMIT_PER_IP: '8', RATE_LIMIT_JOBS_PER_MINUTE_PER_IP: '1000' } });
	});
	afterAll(() => server.dispose());

	it('allows 100 requests a minute on /api/jobs* per user, then 429 with Retry-After and RateLimit-*', async () => {
		const client = new ApiClient(server.url);
		await client.signUp();
		for (let i = 0; i < 100; i++) {
			const res = await client.request('GET', i % 2 ? '/api/jobs' : '/api/jobs/not-a-job');
			expect(res.status, `request ${i + 1}`).not.toBe(429);
			expect(res.headers.get('ratelimit-remaining')).toBe(String(99 - i));
			await res.arrayBuffer();
		}
		const limited = await client.json('GET', '/api/jobs');
		expect(limited.status).toBe(429);
		expect(limited.body.error.code).toBe('rate_limited');
		const retryAfter = Number(limited.res.headers.get('retry-after'));
		expect(retryAfter).toBeGreaterThanOrEqual(1);
		expect(retryAfter).toBeLessThanOrEqual(60);
		expect(limited.res.headers.get('ratelimit-limit')).toBe('100');
		expect(limited.res.headers.get('ratelimit-remaining')).toBe('0');
		expect(limited.res.headers.get('ratelimit-reset')).toBe(String(retryAfter));
		// A POST is refused before the route runs, so nothing is submitted; a percent-encoded
		// path reaches the same route and is counted the same.
		expect((await client.json('POST', '/api/jobs', { json: {} })).status).toBe(429);
		expect((await client.request('GET', '/api/%6Aobs')).status).toBe(429);

		// Another user has a budget of their own; the same user's API keys share theirs (a new
		// key is no way around the limit); other routes aren't limited.
		const other = new ApiClient(server.url);
		await other.signUp();
		expect((await other.request('GET', '/api/jobs')).status).toBe(200);
		for (const name of ['script one', 'script two']) {
			const key = await client.json('POST', '/api/keys', { json: { name } });
			const script = new ApiClient(server.url);
			script.bearer = key.body.secret;
			expect((await script.request('GET', '/api/jobs')).status).toBe(429);
		}
		expect((await client.request('GET', '/api/me')).status).toBe(200);
	});

	// bench:abuse: 2,000 refused event-stream requests each made a round trip to count what was
	// already spent, queueing on the pool ahead of honest requests. A spent budget stays spent
	// until its window ends, so the instance answers the flood from memory.
	it.runIf(driver === 'postgres')('refuses a spent budget without counting it again in the database', async () => {
		const client = new ApiClient(server.url);
		const { email } = await client.signUp();
		for (let i = 0; i < 100; i++) await (await client.request('GET', '/api/jobs')).arrayBuffer();
		const statuses = [];
		for (let i = 0; i < 20; i++) statuses.push((await client.request('GET', '/api/jobs')).status);
		expect(statuses).toEqual(Array(20).fill(429));
		const db = new pg.Client({ connectionString: server.databaseEnv.DATABASE_URL });
		await db.connect();
		try {
			const { rows } = await db.query(
				`select c.count from rate_limit_counters c join users u on c.key = 'jobsUser:' || u.id where u.email = lower($1)`,
				[email]
			);
			// The first refusal is counted (it found the budget spent); the 19 after it are not.
			expect(rows).toEqual([{ count: 101 }]);
		} finally {
			await db.end();
		}
	});

	it('limits login attempts per account, even with the right password', async () => {
		const client = new ApiClient(server.url);
		const { email, password } = await client.signUp();
		for (let i = 0; i < 3; i++) {
			expect((await client.json('POST', '/api/auth/login', { json: { email, password: 'wrong password' } })).status).toBe(401);
		}
		const limited = await client.json('POST', '/api/auth/login', { json: { email: email.toUpperCase(), password } });
		expect(limited.status).toBe(429);
		expect(limited.body.error.code).toBe('rate_limited');
		expect(Number(limited.res.headers.get('retry-after'))).toBeGreaterThan(60);
	});

	it('limits login attempts per address across accounts', async () => {
		// 4 attempts so far from this address (the test above); 4 more fill the budget of 8.
		const emails = Array.from({ length: 5 }, (_, i) => `nobody-${i}-${crypto.randomUUID()}@example.com`);
		const statuses = [];
		for (const email of emails) statuses.push((await new ApiClient(server.url).json('POST', '/api/auth/login', { json: { email, password: 'whatever pw' } })).status);
		expect(statuses).toEqual([401, 401, 401, 401, 429]);
	});
});
