import type { Pool, PoolClient } from 'pg';
import { CUSTOM_PLANS, isStale, MAX_PREPARED, StatementNames } from './prepared';

// PostgreSQL's side of prepared.ts.

type Callback = (err: Error | null, result?: unknown) => void;
type Query = (...args: unknown[]) => unknown;

/**
 * node-postgres prepares a statement on a connection the first time it sees its name there:
 * the pool's clients name the statements the app repeats. Names are never taken back from a
 * connection, so at most MAX_PREPARED texts get one (what a connection can hold), the first
 * repeated; a statement a schema change made stale gets a new name, which every connection
 * then prepares again. Before its first statement each connection sets plan_cache_mode (as a
 * statement, not a startup option: poolers such as PgBouncer refuse unknown startup options).
 */
export function namePostgresStatements(pool: Pool) {
	const seen = new StatementNames<never>();
	const names = new Map<string, string>();
	let given = 0;
	const nameOf = (text: string) => {
		const name = names.get(text);
		if (name || names.size >= MAX_PREPARED || !seen.secondSighting(text)) return name;
		names.set(text, `app_${++given}`);
		return names.get(text);
	};
	const renameIfStale = (err: unknown, text: string, name: string) => {
		if (!isStale(err) || names.get(text) !== name) return false;
		names.set(text, `app_${++given}`);
		return true;
	};

	pool.on('connect', (client: PoolClient) => {
		const query = client.query.bind(client) as Query;
		// Until plan_cache_mode is set the connection's statements go unnamed; null if it failed.
		let customPlans: Promise<boolean> | null = null;
		const named = (config: { text: string; name?: string }, rest: unknown[]) => {
			const name = nameOf(config.text);
			if (!name) return query(config, ...rest);
			const last = rest.at(-1);
			if (typeof last !== 'function') {
				// Promise style: a transaction's statement (drizzle). A stale one aborts the
				// transaction; the caller's next prepares the statement under its new name.
				return (query({ ...config, name }, ...rest) as Promise<unknown>).catch((err) => {
					renameIfStale(err, config.text, name);
					throw err;
				});
			}
			// Callback style: pool.query, one statement outside any transaction, so a stale one
			// is simply sent again under its new name.
			const callback = last as Callback;
			const args = rest.slice(0, -1);
			return query({ ...config, name }, ...args, (err: Error | null, result?: unknown) =>
				err && renameIfStale(err, config.text, name) ? query({ ...config, name: names.get(config.text) }, ...args, callback) : callback(err, result)
			);
		};
		client.query = ((config: unknown, ...rest: unknown[]) => {
			const nameable = config && typeof config === 'object' && 'text' in config && !(config as { name?: string }).name;
			if (!nameable) return query(config, ...rest);
			customPlans ??= (query(CUSTOM_PLANS) as Promise<unknown>).then(
				() => true,
				(err: Error) => (console.error(`prepared statements off on a connection: ${err.message}`), false)
			);
			const send = (ok: boolean) => (ok ? named(config as { text: string }, rest) : query(config, ...rest));
			const last = rest.at(-1);
			if (typeof last !== 'function') return customPlans.then(send);
			void customPlans.then(send);
			return undefined;
		}) as PoolClient['query'];
	});
}
