import type { Pool, PoolClient } from 'pg';
import { PLAN_CACHE_MODE, isStale, MAX_PREPARED, Sightings } from './prepared';

// PostgreSQL's side of prepared.ts.

type Callback = (err: Error | null, result?: unknown) => void;
type Query = (...args: unknown[]) => unknown;

/**
 * node-postgres prepares a statement on a connection the first time it sees its name there:
 * the pool's clients name the statements the app repeats. Names are never taken back from a
 * connection, so at most MAX_PREPARED texts get one (the first repeated), and a text renamed
 * too often goes unnamed for good. A statement a schema change made stale gets a new name,
 * which every connection then prepares again. Before its first statement each connection sets
 * plan_cache_mode (as a statement, not a startup option: poolers such as PgBouncer refuse
 * unknown startup options).
 */
export function namePostgresStatements(pool: Pool) {
	const seen = new Sightings();
	/** A text's current name; null: never named again. */
	const names = new Map<string, string | null>();
	let given = 0;
	const newName = () => (given < 2 * MAX_PREPARED ? `app_${++given}` : null);
	const nameOf = (text: string) => {
		if (names.has(text)) return names.get(text) ?? undefined;
		if (names.size >= MAX_PREPARED || !seen.secondSighting(text)) return undefined;
		const name = newName();
		names.set(text, name);
		return name ?? undefined;
	};
	/**
	 * A named statement failed. Stale (a schema change), or failed on the client side (node-
	 * postgres then closes the statement on the server yet counts it prepared): the text gets a
	 * new name. True when the statement is worth sending again.
	 */
	const failed = (err: Error, text: string, name: string) => {
		const clientSide = !(err as { code?: string }).code;
		if (!isStale(err) && !clientSide) return false;
		if (names.get(text) === name) names.set(text, newName());
		return isStale(err);
	};

	pool.on('connect', (client: PoolClient) => {
		const query = client.query.bind(client) as Query;
		// Every query waits for plan_cache_mode, in the order sent; false: the SET failed, and
		// this connection's statements go unnamed.
		let planMode: Promise<boolean> | null = null;
		let planned: boolean | null = null;

		const named = (config: { text: string }, rest: unknown[]) => {
			const name = planned ? nameOf(config.text) : undefined;
			if (!name) return query(config, ...rest);
			const last = rest.at(-1);
			if (typeof last !== 'function') {
				// Promise style: a transaction's statement (drizzle). A stale one aborts the
				// transaction; the caller's next prepares the statement under its new name.
				return (query({ ...config, name }, ...rest) as Promise<unknown>).catch((err: Error) => {
					failed(err, config.text, name);
					throw err;
				});
			}
			// Callback style: pool.query, one statement outside any transaction, so a stale one
			// is sent once more, under the text's current name (or none).
			const callback = last as Callback;
			const args = rest.slice(0, -1);
			return query({ ...config, name }, ...args, (err: Error | null, result?: unknown) => {
				if (!err || !failed(err, config.text, name)) return callback(err, result);
				const again = names.get(config.text);
				query(again ? { ...config, name: again } : config, ...args, callback);
			});
		};
		const send = (config: unknown, rest: unknown[]) =>
			config && typeof config === 'object' && 'text' in config && !(config as { name?: string }).name ? named(config as { text: string }, rest) : query(config, ...rest);

		client.query = ((config: unknown, ...rest: unknown[]) => {
			// Objects node-postgres runs itself (cursors, streams) keep its own handling.
			if (config && typeof config === 'object' && typeof (config as { submit?: unknown }).submit === 'function') return query(config, ...rest);
			if (planned !== null) return send(config, rest);
			planMode ??= (query(PLAN_CACHE_MODE) as Promise<unknown>).then(
				() => (planned = true),
				(err: Error) => (console.error(`prepared statements off on a connection: ${err.message}`), (planned = false))
			);
			const sent = planMode.then(() => send(config, rest));
			if (typeof rest.at(-1) !== 'function') return sent;
			void sent;
			return undefined;
		}) as PoolClient['query'];
	});
}
