import type { PGlite, QueryOptions, Results, Transaction } from '@electric-sql/pglite';
import { parse, protocol } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';

// Named prepared statements for the statements the app sends again and again. Without them
// every statement is parsed and planned anew: on PGlite that is most of its cost (its ledger
// posting 1.0 ms a time, 0.26 ms prepared; docs/broker-costs.md), and PGlite's own `query`
// makes six calls into Postgres where a prepared one needs one. On PostgreSQL, node-postgres
// sends Parse only the first time a connection sees a statement's name.
//
// A statement is prepared the second time its text is seen (migrations and one-off statements
// never are), and at most MAX_PREPARED per connection are kept, the least recently used
// closed first. DATABASE_PREPARED_STATEMENTS=off turns it off (a pooler in transaction
// mode, such as PgBouncer before 1.21, cannot keep named statements).

export const MAX_PREPARED = 200;
/**
 * A named statement is still planned for its values each time, as an unnamed one is: a generic
 * plan cannot use the partial indexes on a job's status (`status = $1` proves nothing about
 * `status = 'queued'`), and would scan the jobs table as it grows. What is saved is the parse,
 * the analysis and, on PGlite, five of six calls into Postgres.
 */
const CUSTOM_PLANS = 'set plan_cache_mode = force_custom_plan';

/**
 * The connection string with plan_cache_mode set at connection start, beside any options it
 * has; null where it cannot be read as a URL (then no statement is named).
 */
export function withCustomPlans(url: string): string | null {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		console.error('DATABASE_URL is not a URL this server can add plan_cache_mode to: prepared statements are off');
		return null;
	}
	const options = [parsed.searchParams.get('options'), '-c plan_cache_mode=force_custom_plan'].filter(Boolean).join(' ');
	parsed.searchParams.set('options', options);
	return parsed.toString();
}
export const preparedStatementsOn = () => process.env.DATABASE_PREPARED_STATEMENTS !== 'off';

/** Texts seen once, and those worth a name: the second sighting names a statement. */
class StatementNames<T> {
	readonly #seen = new Set<string>();
	readonly #named = new Map<string, T>();

	/** The statement's entry, most recently used now; undefined while it is not worth one. */
	get(text: string): T | undefined {
		const entry = this.#named.get(text);
		if (entry !== undefined) {
			this.#named.delete(text);
			this.#named.set(text, entry);
		}
		return entry;
	}
	has(text: string): boolean {
		return this.#named.has(text);
	}
	/** True the second time a text is asked about: name it now. */
	secondSighting(text: string): boolean {
		if (this.#seen.delete(text)) return true;
		if (this.#seen.size >= 4 * MAX_PREPARED) this.#seen.clear();
		this.#seen.add(text);
		return false;
	}
	/** Remembers a named statement; returns the one it pushed out, if the cache was full. */
	add(text: string, entry: T): T | undefined {
		this.#named.set(text, entry);
		if (this.#named.size <= MAX_PREPARED) return undefined;
		const [oldest, evicted] = this.#named.entries().next().value!;
		this.#named.delete(oldest);
		return evicted;
	}
	get size() {
		return this.#named.size;
	}
}

type RowDescription = InstanceType<typeof protocol.messages.RowDescriptionMessage>;
type DataRow = InstanceType<typeof protocol.messages.DataRowMessage>;
type CommandComplete = InstanceType<typeof protocol.messages.CommandCompleteMessage>;
type Message = Awaited<ReturnType<PGlite['execProtocol']>>['messages'][number];

interface PgliteStatement {
	name: string;
	paramTypes: number[];
	/** The statement's RowDescription (null: it returns no rows), handed to PGlite's parser. */
	rowDescription: RowDescription | null;
}

/**
 * What PGlite's parseResults makes of one statement's answer, without copying its whole table
 * of parsers into a new object for every statement (drizzle passes parsers of its own each
 * time: that copy was PGlite's largest cost in JavaScript).
 */
function results<T>(description: RowDescription | null, answer: Message[], parsers: Record<number, (x: string, type: number) => unknown>, options: QueryOptions | undefined): Results<T> {
	const fields = description?.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) ?? [];
	const parseColumn = fields.map(({ dataTypeID: type }) => {
		const parser = options?.parsers?.[type] ?? parsers[type];
		return parser ? (x: string | null) => (x === null ? null : parser(x, type)) : (x: string | null) => x;
	});
	const rows: unknown[] = [];
	for (const message of answer) {
		if (message.name === 'dataRow') {
			const values = (message as DataRow).fields.map((x, i) => parseColumn[i](x));
			rows.push(options?.rowMode === 'array' ? values : Object.fromEntries(values.map((v, i) => [fields[i].name, v])));
		} else if (message.name === 'commandComplete') {
			// "SELECT 2", "UPDATE 3", "INSERT 0 5"; other tags end in a word.
			const parts = (message as CommandComplete).text.split(' ');
			const command = parts[0];
			const rowCount = parseInt(parts[parts.length - 1], 10);
			const affectedRows = ['INSERT', 'UPDATE', 'DELETE', 'COPY', 'MERGE'].includes(command) ? rowCount : 0;
			return { rows, fields, command, affectedRows, ...(Number.isNaN(rowCount) ? {} : { rowCount }) } as Results<T>;
		}
	}
	return { rows: [], fields: [], affectedRows: 0 } as Results<T>;
}

/**
 * Routes PGlite's `query`, and every transaction's, through named prepared statements. The
 * answer is what PGlite's own `query` gives: its parsers and serializers, its error (with the
 * query and params on it). The work runs under PGlite's own locks, as `query` does.
 */
export async function usePreparedStatements(pglite: PGlite) {
	await pglite.exec(CUSTOM_PLANS);
	const statements = new StatementNames<PgliteStatement>();
	let counter = 0;
	const plainQuery = pglite.query.bind(pglite);

	const exec = async (messages: Uint8Array[], syncToFs: boolean) => {
		const buffer = new Uint8Array(messages.reduce((n, m) => n + m.length, 0));
		let at = 0;
		for (const m of messages) buffer.set(m, at), (at += m.length);
		return (await pglite.execProtocol(buffer, { syncToFs })).messages;
	};

	const prepare = async (text: string, options: QueryOptions | undefined): Promise<PgliteStatement> => {
		const name = `app_${++counter}`;
		const answer = await exec([protocol.serialize.parse({ name, text, types: options?.paramTypes }), protocol.serialize.describe({ type: 'S', name }), protocol.serialize.sync()], false);
		const statement: PgliteStatement = {
			name,
			paramTypes: parse.parseDescribeStatementResults(answer),
			rowDescription: (answer.find((m) => m.name === 'rowDescription') as RowDescription | undefined) ?? null
		};
		const evicted = statements.add(text, statement);
		if (evicted) await exec([protocol.serialize.close({ type: 'S', name: evicted.name }), protocol.serialize.sync()], false);
		return statement;
	};

	/** Under PGlite's query lock; `inTransaction`: leave the file system sync to the COMMIT. */
	const run = async <T>(text: string, params: unknown[] = [], options: QueryOptions | undefined, inTransaction: boolean): Promise<Results<T>> => {
		try {
			const statement = statements.get(text) ?? (await prepare(text, options));
			const values = params.map((param, i) => {
				if (param === null || param === undefined) return null;
				const serialize = options?.serializers?.[statement.paramTypes[i]] ?? pglite.serializers[statement.paramTypes[i]];
				return serialize ? serialize(param) : String(param);
			});
			const answer = await exec([protocol.serialize.bind({ statement: statement.name, values: values as string[] }), protocol.serialize.execute({}), protocol.serialize.sync()], !inTransaction);
			return results<T>(statement.rowDescription, answer, pglite.parsers, options);
		} catch (err) {
			// What PGlite's own query puts on its errors.
			Object.assign(err as object, { query: text, params, queryOptions: options });
			throw err;
		}
	};

	const query =
		(inTransaction: boolean, plain: (text: string, params?: unknown[], options?: QueryOptions) => Promise<Results<unknown>>) =>
		<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> => {
			if (options?.blob || !(statements.has(text) || statements.secondSighting(text))) return plain(text, params, options) as Promise<Results<T>>;
			const locked = () => pglite.runExclusive(() => run<T>(text, params, options, inTransaction));
			// Outside a transaction, wait for any open one to end, as PGlite's query does.
			return inTransaction ? locked() : pglite._runExclusiveTransaction(locked);
		};

	pglite.query = query(false, plainQuery) as PGlite['query'];
	const transaction = pglite.transaction.bind(pglite);
	pglite.transaction = (<T>(fn: (tx: Transaction) => Promise<T>) =>
		transaction((tx) => {
			const plain = tx.query.bind(tx);
			const inTx = query(true, plain);
			// A closed transaction refuses, as PGlite's own tx.query does.
			tx.query = (<R>(text: string, params?: unknown[], options?: QueryOptions) => (tx.closed ? plain<R>(text, params, options) : inTx<R>(text, params, options))) as Transaction['query'];
			return fn(tx);
		})) as PGlite['transaction'];
	return { get prepared() { return statements.size; } };
}

/**
 * node-postgres prepares a statement on a connection the first time it sees its name there:
 * the pool's clients name the statements the app repeats. A name, once given, stays (each
 * connection keeps what it prepared), so at most MAX_PREPARED texts are ever named.
 */
export function namePostgresStatements(pool: Pool) {
	const seen = new StatementNames<never>();
	const names = new Map<string, string>();
	const nameOf = (text: string) => {
		const name = names.get(text);
		if (name || names.size >= MAX_PREPARED || !seen.secondSighting(text)) return name;
		names.set(text, `app_${names.size + 1}`);
		return names.get(text);
	};
	pool.on('connect', (client: PoolClient) => {
		const query = client.query.bind(client) as (...args: unknown[]) => unknown;
		client.query = ((config: unknown, ...rest: unknown[]) => {
			if (config && typeof config === 'object' && 'text' in config && !(config as { name?: string }).name) {
				const name = nameOf((config as { text: string }).text);
				if (name) return query({ ...config, name }, ...rest);
			}
			return query(config, ...rest);
		}) as PoolClient['query'];
	});
}
