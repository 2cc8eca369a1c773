import { sql, type SQL } from 'drizzle-orm';

// Named prepared statements for the statements the app sends again and again. Without them
// every statement is parsed and planned anew: on PGlite that is most of its cost (its ledger
// posting 1.0 ms a time, 0.26 ms prepared; docs/broker-costs.md), and PGlite's own `query`
// makes six calls into Postgres where a prepared one needs one. On PostgreSQL, node-postgres
// sends Parse only the first time a connection sees a statement's name.
//
// A statement is prepared the second time its text is seen (migrations and one-off statements
// never are), and at most MAX_PREPARED per connection are kept. A statement a schema change
// made stale is forgotten and prepared again. PGlite: prepared-pglite.ts; PostgreSQL:
// prepared-postgres.ts. DATABASE_PREPARED_STATEMENTS=off turns it off (a pooler in
// transaction mode cannot keep a connection's named statements or its plan_cache_mode).

export const MAX_PREPARED = 200;
/**
 * A named statement may run a generic plan: PostgreSQL's default (`auto`) plans it for its
 * values five times, then keeps one plan for every value when that plan is estimated no
 * worse. Planning was about half of what a broker statement cost PGlite (docs/broker-costs.md).
 * Such a plan can use the partial indexes on a job's status only because the statements write
 * statuses as literals (literal.ts), and on PGlite, which runs no autovacuum and no ANALYZE, it
 * is kept until the server stops: generic-plans.test.ts checks that every generic plan the
 * broker makes on a new database reads the tables that grow through an index. Set on every
 * connection, whatever the server's own default.
 */
export const PLAN_CACHE_MODE = 'set plan_cache_mode = auto';

export const preparedStatementsOn = () => process.env.DATABASE_PREPARED_STATEMENTS !== 'off';

/**
 * A statement whose text carries this is never named, so it is planned for its values every
 * time, as before generic plans: the trust and escrow statements whose generic plan, made on a
 * new database, walks a whole partial index or loops over every Island once the tables grew (a
 * hostile review measured 134 ms against 11 ms at 100,000 jobs on PGlite, where such a plan is
 * never replaced). They run rarely, so planning them each time costs little. Put into a
 * statement by `plannedEachTime()`.
 */
export const PLANNED_EACH_TIME = '/* planned each time */';

/** A condition that is always true and carries PLANNED_EACH_TIME: for a statement's WHERE. */
export function plannedEachTime(): SQL {
	return sql.raw(`${PLANNED_EACH_TIME} true`);
}

/**
 * The texts seen once: a statement is named the second time its text is sent, so migrations
 * and one-off statements never are. Bounded: past 4 × MAX_PREPARED texts it starts over.
 */
export class Sightings {
	readonly #seen = new Set<string>();

	/** True the second time a text is asked about: name it now. */
	secondSighting(text: string): boolean {
		if (text.includes(PLANNED_EACH_TIME)) return false;
		if (this.#seen.delete(text)) return true;
		if (this.#seen.size >= 4 * MAX_PREPARED) this.#seen.clear();
		this.#seen.add(text);
		return false;
	}
}

/**
 * Errors a named statement meets once the schema changed under it (a rolling deploy's
 * migration, a manual ALTER): its result type is no longer what it was prepared with
 * (0A000), the connection lost it (26000), or a parameter keeps the type its column had
 * (42804, 42883; 22003 and 22P02 when a value fits the new type and not the old). The
 * statement is prepared again; a genuine error of these kinds then simply fails again.
 */
const STALE = new Set(['0A000', '26000', '42804', '42883', '22003', '22P02']);
export const isStale = (err: unknown) => STALE.has((err as { code?: string })?.code ?? '');
