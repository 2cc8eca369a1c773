import type { PGlite, QueryOptions, Results, Transaction } from '@electric-sql/pglite';
import { parse, protocol } from '@electric-sql/pglite';
import { PLAN_CACHE_MODE, isStale, MAX_PREPARED, Sightings } from './prepared';
import { bindExecuteSync, readAnswer, type Answer } from './pglite-wire';

// PGlite's side of prepared.ts.

type RowDescription = InstanceType<typeof protocol.messages.RowDescriptionMessage>;
type DataRow = InstanceType<typeof protocol.messages.DataRowMessage>;
type CommandComplete = InstanceType<typeof protocol.messages.CommandCompleteMessage>;

interface PgliteStatement {
	name: string;
	paramTypes: number[];
	/** Its columns, from the Describe at prepare time (none: it returns no rows). */
	fields: { name: string; dataTypeID: number }[];
}

/** The named statements, at most MAX_PREPARED, the least recently used pushed out first. */
class PreparedCache {
	readonly #named = new Map<string, PgliteStatement>();

	has(text: string): boolean {
		return this.#named.has(text);
	}
	/** The text's statement, most recently used now. */
	get(text: string): PgliteStatement | undefined {
		const entry = this.#named.get(text);
		if (entry !== undefined) {
			this.#named.delete(text);
			this.#named.set(text, entry);
		}
		return entry;
	}
	/** Remembers a statement; returns the one it pushed out, if the cache was full. */
	add(text: string, entry: PgliteStatement): PgliteStatement | undefined {
		this.#named.set(text, entry);
		if (this.#named.size <= MAX_PREPARED) return undefined;
		const [oldest, evicted] = this.#named.entries().next().value!;
		this.#named.delete(oldest);
		return evicted;
	}
	/** Drops a statement that went stale (if it is still the text's). */
	forget(text: string, entry: PgliteStatement) {
		if (this.#named.get(text) === entry) this.#named.delete(text);
	}
}

/** The same from PGlite's parsed messages (an answer readAnswer left to it); throws its error, as PGlite's execProtocol does. */
function answerOf(bytes: Uint8Array): Answer {
	const answer: Answer = { rows: [], tag: null };
	let error: Error | null = null;
	new protocol.Parser().parse(bytes, (message) => {
		if (message instanceof protocol.messages.DatabaseError) error ??= message;
		else if (message.name === 'dataRow') answer.rows.push((message as DataRow).fields);
		else if (message.name === 'commandComplete') answer.tag = (message as CommandComplete).text;
	});
	if (error) throw error;
	return answer;
}

/**
 * What PGlite's parseResults makes of one statement's answer, without copying its whole table
 * of parsers into a new object for every statement (drizzle passes parsers of its own each
 * time: that copy was PGlite's largest cost in JavaScript before its message parsing).
 */
function results<T>(fields: PgliteStatement['fields'], { rows: raw, tag }: Answer, parsers: Record<number, (x: string, type: number) => unknown>, options: QueryOptions | undefined): Results<T> {
	if (tag === null) return { rows: [], fields: [], affectedRows: 0 } as Results<T>;
	const parseColumn = fields.map(({ dataTypeID: type }) => {
		const parser = options?.parsers?.[type] ?? parsers[type];
		return parser ? (x: string | null) => (x === null ? null : parser(x, type)) : (x: string | null) => x;
	});
	const rows = raw.map((fieldsOfRow) => {
		const values = fieldsOfRow.map((x, i) => parseColumn[i](x));
		return options?.rowMode === 'array' ? values : Object.fromEntries(values.map((v, i) => [fields[i].name, v]));
	});
	// "SELECT 2", "UPDATE 3", "INSERT 0 5"; other tags end in a word.
	const parts = tag.split(' ');
	const command = parts[0];
	const rowCount = parseInt(parts[parts.length - 1], 10);
	const affectedRows = ['INSERT', 'UPDATE', 'DELETE', 'COPY', 'MERGE'].includes(command) ? rowCount : 0;
	return { rows, fields, command, affectedRows, ...(Number.isNaN(rowCount) ? {} : { rowCount }) } as Results<T>;
}

/**
 * Routes PGlite's `query`, and every transaction's, through named prepared statements. The
 * answer is what PGlite's own `query` gives: its parsers and serializers, its error (with the
 * query and params on it). The work runs under PGlite's own locks, as `query` does.
 */
export async function usePreparedStatements(pglite: PGlite) {
	await pglite.exec(PLAN_CACHE_MODE);
	const sightings = new Sightings();
	const statements = new PreparedCache();
	let counter = 0;
	const plainQuery = pglite.query.bind(pglite);

	const exec = async (messages: Uint8Array[], syncToFs: boolean) => {
		return (await pglite.execProtocol(Buffer.concat(messages), { syncToFs })).messages;
	};

	const close = (name: string) => exec([protocol.serialize.close({ type: 'S', name }), protocol.serialize.sync()], false);

	const prepare = async (text: string, options: QueryOptions | undefined): Promise<PgliteStatement> => {
		const name = `app_${++counter}`;
		const answer = await exec([protocol.serialize.parse({ name, text, types: options?.paramTypes }), protocol.serialize.describe({ type: 'S', name }), protocol.serialize.sync()], false);
		const description = answer.find((m) => m.name === 'rowDescription') as RowDescription | undefined;
		const statement: PgliteStatement = {
			name,
			paramTypes: parse.parseDescribeStatementResults(answer),
			fields: description?.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) ?? []
		};
		const evicted = statements.add(text, statement);
		if (evicted) await close(evicted.name);
		return statement;
	};

	const execute = async <T>(statement: PgliteStatement, params: unknown[], options: QueryOptions | undefined, inTransaction: boolean) => {
		const values = params.map((param, i) => {
			if (param === null || param === undefined) return null;
			const serialize = options?.serializers?.[statement.paramTypes[i]] ?? pglite.serializers[statement.paramTypes[i]];
			return serialize ? serialize(param) : String(param);
		});
		// The answer's bytes, without PGlite parsing them as well (what execProtocol would do).
		const chunks: Uint8Array[] = [];
		// Each chunk is a view of Postgres's memory, reused: copied as it comes.
		await pglite.execProtocolRawStream(bindExecuteSync(statement.name, values), { syncToFs: !inTransaction, onRawData: (chunk) => void chunks.push(chunk.slice()) });
		const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
		return results<T>(statement.fields, readAnswer(bytes) ?? answerOf(bytes), pglite.parsers, options);
	};

	/** Under PGlite's query lock; `inTransaction`: leave the file system sync to the COMMIT. */
	const run = async <T>(text: string, params: unknown[] = [], options: QueryOptions | undefined, inTransaction: boolean): Promise<Results<T>> => {
		// A close() that began while this waited for the lock: refuse as PGlite's query does.
		await pglite._checkReady();
		try {
			const known = statements.get(text);
			if (!known) return await execute<T>(await prepare(text, options), params, options, inTransaction);
			try {
				return await execute<T>(known, params, options, inTransaction);
			} catch (err) {
				if (!isStale(err)) throw err;
				statements.forget(text, known);
				await close(known.name).catch(() => {});
				// Inside a transaction the error has aborted it: the caller's next one prepares anew.
				if (inTransaction) throw err;
				return await execute<T>(await prepare(text, options), params, options, inTransaction);
			}
		} catch (err) {
			// What PGlite's own query puts on its errors.
			Object.assign(err as object, { query: text, params, queryOptions: options });
			throw err;
		}
	};

	const query =
		(inTransaction: boolean, plain: (text: string, params?: unknown[], options?: QueryOptions) => Promise<Results<unknown>>) =>
		<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> => {
			if (options?.blob || !(statements.has(text) || sightings.secondSighting(text))) return plain(text, params, options) as Promise<Results<T>>;
			const locked = () => pglite.runExclusive(() => run<T>(text, params, options, inTransaction));
			// Outside a transaction, wait for any open one to end, as PGlite's query does.
			return inTransaction ? locked() : pglite._checkReady().then(() => pglite._runExclusiveTransaction(locked));
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
}
