// What a prepared statement's generic plan must not do (src/lib/server/db/generic-plans.test.ts
// and the trust tests check every statement they made named): PGlite keeps a generic plan made
// on a new database until the server stops, however the tables grow.
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/lib/server/db';

/**
 * Tables that grow with every job, user or request: a generic plan must never read one whole.
 * (The reaper's sweeps read `islands` and `job_progress` whole by design, with any plan: the
 * Islands gone quiet, the progress of finished jobs.)
 */
const GROWING = ['jobs', 'ledger_transactions', 'ledger_entries', 'ledger_accounts', 'images', 'users', 'sessions', 'rate_limit_counters', 'api_keys'];

/**
 * Partial indexes on jobs that a plan must enter by a condition on their key, not walk whole
 * with the real condition left as a filter (a hostile review found generic plans doing so).
 * The queue's index is walked in order by design: the claim takes the first eligible job.
 */
const KEYED_PARTIAL = ['jobs_lease_idx', 'jobs_running_island_idx', 'jobs_finished_idx', 'jobs_escrow_idx', 'jobs_active_user_idx'];

/** Scans in a plan of a KEYED_PARTIAL index with no Index Cond of their own. */
function partialIndexWalks(plan: string): string[] {
	const lines = plan.split('\n');
	const walks: string[] = [];
	lines.forEach((line, i) => {
		const index = KEYED_PARTIAL.find((name) => line.includes(`using ${name} `));
		if (!index) return;
		const next = lines.slice(i + 1).findIndex((l) => l.includes('->'));
		const details = lines.slice(i + 1, next === -1 ? undefined : i + 1 + next);
		if (!details.some((l) => l.includes('Index Cond:'))) walks.push(index);
	});
	return walks;
}

export interface Prepared {
	name: string;
	statement: string;
	parameters: number;
	generic: number;
	custom: number;
}

/**
 * Each named statement of one connection with what its generic plan does wrong, on the
 * connection that runs this (PGlite has one; on PostgreSQL, one of the pool's).
 */
export async function genericPlanProblems(db: Database): Promise<{ statements: Prepared[]; problems: string[]; plan(p: Prepared): Promise<string> }> {
	return db.transaction(async (tx) => {
		const { rows } = await tx.execute(
			sql`select name, statement, cardinality(parameter_types)::int as parameters, generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where name like 'app_%'`
		);
		const statements = rows as unknown as Prepared[];
		await tx.execute(sql`set local plan_cache_mode = force_generic_plan`);
		const plans = new Map<string, string>();
		// Nulls fill the parameters: the generic plan is the same for every value.
		for (const p of statements) {
			const args = p.parameters ? `(${Array(p.parameters).fill('null').join(', ')})` : '';
			const { rows: lines } = await tx.execute(sql.raw(`explain execute ${p.name}${args}`));
			plans.set(p.name, (lines as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n'));
		}
		const problems: string[] = [];
		for (const p of statements) {
			const plan = plans.get(p.name)!;
			for (const table of GROWING) if (new RegExp(`Seq Scan on ${table}\\b`).test(plan)) problems.push(`${table} read whole: ${p.statement.slice(0, 120)}\n${plan}`);
			for (const index of partialIndexWalks(plan)) problems.push(`${index} walked whole: ${p.statement.slice(0, 120)}\n${plan}`);
		}
		return { statements, problems, plan: async (p: Prepared) => plans.get(p.name)! };
	});
}
