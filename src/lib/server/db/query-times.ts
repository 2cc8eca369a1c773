import { writeFileSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';

type Query = PGlite['query'];

/**
 * DB_QUERY_TIMES=<file> (PGlite only): how long each statement took, from the call to its
 * answer, summed by its text and written there at exit, with the transactions' own totals
 * under `TRANSACTION` — the per-statement costs in docs/broker-costs.md. Under load the time
 * includes waiting for PGlite's one connection; compare them from a paced run. Off by default.
 */
export function timeQueries(pglite: PGlite, file = process.env.DB_QUERY_TIMES) {
	if (!file) return;
	const totals = new Map<string, { n: number; ms: number }>();
	const add = (key: string, ms: number) => {
		const t = totals.get(key) ?? { n: 0, ms: 0 };
		t.n++;
		t.ms += ms;
		totals.set(key, t);
	};
	const timed = (target: { query: Query }) => {
		const query = target.query.bind(target) as Query;
		target.query = (async (text: string, ...rest: unknown[]) => {
			const t0 = performance.now();
			try {
				return await (query as (...args: unknown[]) => ReturnType<Query>)(text, ...rest);
			} finally {
				add(text.replace(/\s+/g, ' ').trim().slice(0, 120), performance.now() - t0);
			}
		}) as Query;
	};
	timed(pglite);
	const transaction = pglite.transaction.bind(pglite);
	pglite.transaction = ((fn: Parameters<PGlite['transaction']>[0]) => {
		const t0 = performance.now();
		return transaction((tx) => (timed(tx), fn(tx))).finally(() => add('TRANSACTION', performance.now() - t0));
	}) as PGlite['transaction'];
	process.once('exit', () => {
		const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms).map(([statement, t]) => ({ statement, count: t.n, ms: Math.round(t.ms) }));
		writeFileSync(file, JSON.stringify(rows, null, 1));
	});
}
