import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, openTestDatabase, type TestDatabase } from '../../../../tests/helpers/db';
import { hit, hitAll, rateLimitHeaders } from './counter';
import { MemoryCounter } from './memory-counter';

describe.each(drivers)('rate-limit counter on %s', (driver) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(driver, 20);
	});
	afterAll(() => t.dispose());

	it('lets exactly `limit` of 150 concurrent hits through, each with its own count', async () => {
		const key = `test:${crypto.randomUUID()}`;
		const hits = await Promise.all(Array.from({ length: 150 }, () => hit(t.db, key, { limit: 100, windowSeconds: 60 })));
		expect(hits.filter((h) => h.allowed)).toHaveLength(100);
		// Remaining counts down 99…0 once each: no two requests saw the same count.
		const remaining = hits.filter((h) => h.allowed).map((h) => h.remaining).sort((a, b) => a - b);
		expect(remaining).toEqual(Array.from({ length: 100 }, (_, i) => i));
		const refused = hits.find((h) => !h.allowed)!;
		expect(refused.resetSeconds).toBeGreaterThan(0);
		expect(refused.resetSeconds).toBeLessThanOrEqual(60);
	});

	it('keeps keys apart', async () => {
		const a = `test:${crypto.randomUUID()}`;
		const b = `test:${crypto.randomUUID()}`;
		await hit(t.db, a, { limit: 1, windowSeconds: 60 });
		expect((await hit(t.db, a, { limit: 1, windowSeconds: 60 })).allowed).toBe(false);
		expect((await hit(t.db, b, { limit: 1, windowSeconds: 60 })).allowed).toBe(true);
	});

	it('counts several budgets in one statement, each with its own limit and window', async () => {
		const user = { key: `test:${crypto.randomUUID()}`, policy: { limit: 2, windowSeconds: 60 } };
		const address = { key: `test:${crypto.randomUUID()}`, policy: { limit: 3, windowSeconds: 3600 } };
		const first = await hitAll(t.db, [user, address]);
		expect(first.map((h) => [h.allowed, h.remaining, h.windowSeconds])).toEqual([
			[true, 1, 60],
			[true, 2, 3600]
		]);
		expect(first[1].resetSeconds).toBeGreaterThan(60);
		await hitAll(t.db, [address, user]);
		const third = await hitAll(t.db, [user, address]);
		expect(third.map((h) => [h.allowed, h.remaining])).toEqual([
			[false, 0],
			[true, 0]
		]);
		expect(third[0].resetSeconds).toBeLessThanOrEqual(60);
	});

	it('starts a new window once the old one has passed', async () => {
		const key = `test:${crypto.randomUUID()}`;
		await hit(t.db, key, { limit: 2, windowSeconds: 60 });
		await hit(t.db, key, { limit: 2, windowSeconds: 60 });
		expect((await hit(t.db, key, { limit: 2, windowSeconds: 60 })).allowed).toBe(false);
		// Move the window into the past instead of waiting a minute.
		await t.db.execute(sql`update rate_limit_counters set window_start = window_start - interval '61 seconds' where key = ${key}`);
		const fresh = await hit(t.db, key, { limit: 2, windowSeconds: 60 });
		expect(fresh).toMatchObject({ allowed: true, remaining: 1 });
	});

	it('writes RateLimit-* headers, and Retry-After only when refused', () => {
		const ok = rateLimitHeaders({ allowed: true, limit: 100, remaining: 7, resetSeconds: 12, windowSeconds: 60 });
		expect(ok).toEqual({ 'ratelimit-limit': '100', 'ratelimit-remaining': '7', 'ratelimit-reset': '12', 'ratelimit-policy': '100;w=60' });
		const refused = rateLimitHeaders({ allowed: false, limit: 100, remaining: 0, resetSeconds: 12, windowSeconds: 60 });
		expect(refused['retry-after']).toBe('12');
	});
});

describe('rate-limit counter in memory (PGlite)', () => {
	const policy = { limit: 2, windowSeconds: 60 };

	it('counts a window from its first hit, keeps keys apart, and starts again after the window', () => {
		const m = new MemoryCounter();
		expect(m.hit('a', policy, 0)).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 60 });
		expect(m.hit('a', policy, 30_000)).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 30 });
		expect(m.hit('a', policy, 59_000)).toMatchObject({ allowed: false, remaining: 0, resetSeconds: 1 });
		expect(m.hit('b', policy, 59_000).allowed).toBe(true);
		expect(m.hit('a', policy, 60_000)).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 60 });
	});
});
