// Statements the broker sends for every job, built by drizzle once.
//
// Drizzle builds a statement's SQL text from its query builder on every call: it walks the whole
// expression tree and asks each node's class several times over (`is()`), 50–270 µs a statement
// on this project's 2-core machine (a job insert with RETURNING the most), and was 10–14 % of the
// server's CPU under load (docs/broker-costs.md). A hot statement is built the first time it runs,
// with `sql.placeholder()` where its values go, and every later call only fills them in and runs
// it on the connection or transaction it is given: the same text, the same row mapping, so the
// same named statement on the database's side (prepared.ts).
//
// A value written into the builder rather than as a placeholder is built in for good: only
// constants may be (a status, a limit read from the environment is not one). So are the values
// of a column's `$defaultFn` or `$onUpdate`, which drizzle computes while building: the tables
// the hot statements write have none (hot.test.ts fails when one appears). A placeholder
// drizzle encodes by its column (a timestamp, JSON) must not be given null: drizzle's
// fillPlaceholders encodes it without asking.
//
// What is swapped per call is the session's client and statement logger; the rest of a built
// statement is the first database's: its query cache (none: drizzle's default NoopCache) and,
// on node-postgres, one query config object every call passes to `client.query` (pg 8.23, pinned,
// copies it; older versions wrote each call's callback onto it).
import { sql, type SQL } from 'drizzle-orm';
import type { PgDialect, PgSession } from 'drizzle-orm/pg-core';
import type { Queryable } from './client';

/** What drizzle's `.prepare()` gives: the built text and row mapping, run with the placeholders' values. */
interface Built<R> {
	execute(values?: Record<string, unknown>): Promise<R>;
}

/** The parts of drizzle's database and transaction objects a built statement runs on. */
interface Internals {
	session: PgSession & { client: unknown; logger: unknown };
	dialect: PgDialect;
}

/** A built statement is the driver's own (PGlite's or node-postgres's): one per driver, whatever the database. */
type Driver = abstract new (...args: never[]) => unknown;
const driverOf = (db: Queryable) => (db as unknown as Internals).session.constructor as Driver;

/**
 * Runs a built statement on `db`'s connection (its transaction's, inside one) and with its
 * statement logger: drizzle binds a built statement to the session it was built on, and only its
 * client and logger differ between the database and a transaction, or between two databases.
 */
function runOn<R>(built: Built<R>, db: Queryable, values: Record<string, unknown>): Promise<R> {
	const { client, logger } = (db as unknown as Internals).session;
	const bound = Object.create(built) as Built<R> & { client: unknown; logger: unknown };
	bound.client = client;
	bound.logger = logger;
	return bound.execute(values);
}

/** Built statements, one per driver and shape. */
function builtCache<K, R>(build: (db: Queryable, shape: K) => Built<R>) {
	const built = new Map<Driver, Map<K, Built<R>>>();
	return (db: Queryable, shape: K): Built<R> => {
		const driver = driverOf(db);
		const shapes = built.get(driver) ?? built.set(driver, new Map()).get(driver)!;
		let statement = shapes.get(shape);
		if (!statement) shapes.set(shape, (statement = build(db, shape)));
		return statement;
	};
}

type Preparable<R> = { prepare(name: string): Built<R> };

/**
 * Builder statements (select, insert, update, delete) built once per shape: `build(db, shape)`
 * makes the statement of that shape (e.g. an Island's rule for how many models it runs), with
 * `sql.placeholder(name)` for every value that varies. `db` is the first call's, only to reach
 * drizzle's builders.
 */
export function hotStatements<K, V extends Record<string, unknown>, R>(build: (db: Queryable, shape: K) => Preparable<R>): (db: Queryable, shape: K, values: V) => Promise<R> {
	// No name: prepared.ts names the statement, as it does every repeated text.
	const statement = builtCache<K, R>((db, shape) => build(db, shape).prepare(''));
	return (db, shape, values) => runOn(statement(db, shape), db, values);
}

/** A builder statement of one shape, built once (hotStatements). */
export function hotStatement<V extends Record<string, unknown>, R>(build: (db: Queryable) => Preparable<R>): (db: Queryable, values: V) => Promise<R> {
	const statements = hotStatements<null, V, R>((db) => build(db));
	return (db, values) => statements(db, null, values);
}

/**
 * A raw `sql` statement built once per shape (e.g. how many rows a VALUES list has): `build(shape)`
 * makes it, with placeholders for its values. Answers as `db.execute` does (`{ rows }`, columns
 * as the database names them).
 */
export function hotSql<K, V extends Record<string, unknown>, R extends { rows: unknown[] }>(build: (shape: K) => SQL): (db: Queryable, shape: K, values: V) => Promise<R> {
	const statement = builtCache<K, R>((db, shape) => {
		const { session, dialect } = db as unknown as Internals;
		return session.prepareQuery(dialect.sqlToQuery(build(shape)), undefined, '', false) as unknown as Built<R>;
	});
	return (db, shape, values) => runOn(statement(db, shape), db, values);
}

/**
 * A placeholder where drizzle's types want a column's value (an update's `set`): filled in, and
 * encoded as that column's value, at each run.
 */
export const slot = <T>(name: string) => sql.placeholder(name) as unknown as T;
