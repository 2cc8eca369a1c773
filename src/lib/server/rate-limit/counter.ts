import { sql, type SQL } from 'drizzle-orm';
import type { Queryable } from '../db';

export interface Policy {
	limit: number;
	windowSeconds: number;
}

export interface Hit {
	allowed: boolean;
	limit: number;
	remaining: number;
	/** Seconds until this key's window ends and the count starts again. */
	resetSeconds: number;
	windowSeconds: number;
}

/**
 * Counts one request against each key, all in one atomic upsert (one round trip however many
 * budgets a request spends), so instances sharing a PostgreSQL database count together and
 * concurrent requests can't both take the last slot. Each window starts at its key's first
 * request (not on a clock boundary), with the database's clock, so instances with skewed
 * clocks agree. Rows are taken in key order, so two requests sharing keys can't deadlock.
 * Keys must be distinct. Answers in the order asked.
 */
export async function hitAll(tx: Queryable, budgets: { key: string; policy: Policy }[]): Promise<Hit[]> {
	const keys = budgets.map((b) => b.key);
	const seconds = budgets.map((b) => b.policy.windowSeconds);
	const windowOf = (row: SQL) => sql`make_interval(secs => (select secs from input where input.key = ${row}))`;
	const result = await tx.execute(sql`
		with input (key, secs) as (select * from unnest(${sql.param(keys)}::text[], ${sql.param(seconds)}::int[]))
		insert into rate_limit_counters as c (key, window_start, count)
		select key, clock_timestamp(), 1 from input order by key
		on conflict (key) do update set
			window_start = case when c.window_start + ${windowOf(sql`excluded.key`)} <= excluded.window_start then excluded.window_start else c.window_start end,
			count = case when c.window_start + ${windowOf(sql`excluded.key`)} <= excluded.window_start then 1 else c.count + 1 end
		returning key, count, ceil(extract(epoch from (window_start + ${windowOf(sql`c.key`)} - clock_timestamp())))::int as reset`);
	const rows = new Map((result.rows as { key: string; count: number; reset: number }[]).map((r) => [r.key, r]));
	return budgets.map(({ key, policy }) => {
		const row = rows.get(key)!;
		return {
			allowed: row.count <= policy.limit,
			limit: policy.limit,
			remaining: Math.max(0, policy.limit - row.count),
			resetSeconds: Math.max(1, row.reset),
			windowSeconds: policy.windowSeconds
		};
	});
}

/** Counts one request against `key` (hitAll with one budget). */
export async function hit(tx: Queryable, key: string, policy: Policy): Promise<Hit> {
	return (await hitAll(tx, [{ key, policy }]))[0];
}

/** Keys under this prefix are remembered, not counted: they live for LONG_WINDOW_DAYS. */
/** Keys of the addresses an account signed in from (`known:<email>|<address>`). */
export const REMEMBERED_PREFIX = 'known:';
const REMEMBERED = REMEMBERED_PREFIX;
const LONG_WINDOW_DAYS = 90;

/** Deletes windows long over (people long gone) and remembered keys past their days; the reaper calls it hourly. */
export async function sweep(tx: Queryable) {
	await tx.execute(sql`delete from rate_limit_counters
		where (key not like ${`${REMEMBERED}%`} and window_start < clock_timestamp() - interval '1 day')
		   or window_start < clock_timestamp() - make_interval(days => ${LONG_WINDOW_DAYS})`);
}

/** Remembers `key` (e.g. an address an account signed in from) for LONG_WINDOW_DAYS. */
export async function remember(tx: Queryable, key: string) {
	await tx.execute(sql`
		insert into rate_limit_counters (key, window_start, count) values (${REMEMBERED + key}, clock_timestamp(), 1)
		on conflict (key) do update set window_start = excluded.window_start, count = 1`);
}

export async function isRemembered(tx: Queryable, key: string): Promise<boolean> {
	const result = await tx.execute(sql`
		select 1 from rate_limit_counters
		where key = ${REMEMBERED + key} and window_start > clock_timestamp() - make_interval(days => ${LONG_WINDOW_DAYS})`);
	return result.rows.length > 0;
}

/** The RateLimit-* fields (IETF httpapi draft) and, when refused, Retry-After. */
export function rateLimitHeaders(h: Hit): Record<string, string> {
	const headers: Record<string, string> = {
		'ratelimit-limit': String(h.limit),
		'ratelimit-remaining': String(h.remaining),
		'ratelimit-reset': String(h.resetSeconds),
		'ratelimit-policy': `${h.limit};w=${h.windowSeconds}`
	};
	if (!h.allowed) headers['retry-after'] = String(h.resetSeconds);
	return headers;
}
