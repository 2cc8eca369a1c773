// The app's prepared statements may run a generic plan (prepared.ts: plan_cache_mode auto),
// made once for every value of their parameters, and on PGlite kept until the server stops. So
// each statement's generic plan must already be a good one on a new, nearly empty database:
// no sequential scan of a table that grows with use, and the claim's pick from the queue by
// its partial index. Statuses are written into the statements for that (db/literal.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { drivers, type TestDatabase } from '../../../../tests/helpers/db';
import { jobParams, useBroker } from '../../../../tests/helpers/broker-fixture';
import { makePng } from '../../../../harness/test-island';
import { getBalances } from '../ledger';
import { createSession, resolveSession } from '../auth/sessions';
import { hit } from '../rate-limit/counter';
import { cancelJob, claimOnce, completeJob, listOwnBatches, reapOnce, submitJob, type Broker } from '../jobs';
import { escrowedBy, forfeitEscrow, releaseDueEscrow } from '../trust/escrow';
import { PLANNED_EACH_TIME } from './prepared';

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

interface Prepared {
	name: string;
	statement: string;
	parameters: number;
	generic: number;
	custom: number;
}

describe.each(drivers)('generic plans on %s', (driver) => {
	// One connection: PostgreSQL's prepared statements and plans belong to a connection.
	const fixture = useBroker(driver, { poolSize: 1 });
	const { user, island } = fixture;
	let t: TestDatabase;
	let broker: Broker;
	beforeAll(() => {
		({ t, broker } = fixture);
	});

	/** Each named statement with its parameter count and how often each kind of plan ran. */
	const prepared = async (): Promise<Prepared[]> => {
		const { rows } = await t.db.execute(
			sql`select name, statement, cardinality(parameter_types)::int as parameters, generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where name like 'app_%'`
		);
		return rows as unknown as Prepared[];
	};
	/** The statement's generic plan, whatever the mode would choose (nulls fill its parameters). */
	const genericPlan = (p: Prepared) =>
		t.db.transaction(async (tx) => {
			await tx.execute(sql`set local plan_cache_mode = force_generic_plan`);
			const args = p.parameters ? `(${Array(p.parameters).fill('null').join(', ')})` : '';
			const { rows } = await tx.execute(sql.raw(`explain execute ${p.name}${args}`));
			return (rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n');
		});

	it('runs the broker and what surrounds a job on generic plans that use an index for every table that grows', async () => {
		const requester = await user(10_000);
		const claimant = await island(await user(0));
		const params = jobParams;
		const png = makePng(256, 256);
		// Past the five custom plans PostgreSQL makes before it weighs a generic one.
		for (let i = 0; i < 12; i++) {
			const job = await submitJob(broker, requester, params);
			const { claim } = await claimOnce(broker, claimant);
			expect(claim?.job.id).toBe(job.id);
			await completeJob(broker, claimant, job.id, claim!.lease.token, png);
			await claimOnce(broker, claimant, { precheck: true });
			await cancelJob(broker, requester.id, (await submitJob(broker, requester, params)).id);
			// What every request and page around it runs: a session, a rate limit, the history, the balance, the reaper.
			const { token } = await createSession(t.db, requester.id);
			expect(await resolveSession(t.db, token)).toBeTruthy();
			await hit(t.db, `submit:${requester.id}`, { limit: 1000, windowSeconds: 60 });
			expect((await listOwnBatches(broker, requester.id, 10)).length).toBeGreaterThan(0);
			await getBalances(t.db, requester.id);
			await reapOnce(broker);
			// Escrow: released by the sweep, shown on /island, forfeited on quarantine.
			await releaseDueEscrow(t.db);
			expect((await escrowedBy(t.db, [claimant.id])).get(claimant.id)).toBeGreaterThan(0);
			await forfeitEscrow(t.db, await island(await user(0)));
		}

		const statements = await prepared();
		const onJobs = statements.filter((s) => /from "jobs"|update "jobs"|into "jobs"/.test(s.statement));
		expect(onJobs.length).toBeGreaterThanOrEqual(5);
		const scans: string[] = [];
		for (const s of statements) {
			const plan = await genericPlan(s);
			for (const table of GROWING) if (new RegExp(`Seq Scan on ${table}\\b`).test(plan)) scans.push(`${table}: ${s.statement.slice(0, 120)}\n${plan}`);
			for (const index of partialIndexWalks(plan)) scans.push(`${index} walked whole: ${s.statement.slice(0, 120)}\n${plan}`);
		}
		expect(scans).toEqual([]);
		// The escrow statements whose generic plans went wrong as tables grew are planned each time.
		expect(statements.filter((s) => s.statement.includes('"escrow"') && s.statement.includes("'held'")).map((s) => s.statement)).toEqual([]);
		expect(statements.filter((s) => s.statement.includes(PLANNED_EACH_TIME))).toEqual([]);

		// The claim picks the oldest queued job by the queue's partial index.
		const pick = statements.find((s) => s.statement.startsWith('update "jobs" set "status"') && s.statement.includes(`"status" = 'queued'`) && s.statement.includes('limit'));
		expect(pick, 'the claim statement').toBeDefined();
		expect(await genericPlan(pick!)).toMatch(/jobs_queue_idx/);
		// And the hot ones do run generic plans: what saves planning every statement.
		const posting = statements.find((s) => s.statement.trimStart().startsWith('with m (account_id, amount'));
		expect(posting?.generic).toBeGreaterThan(0);
		expect(pick!.generic).toBeGreaterThan(0);
	});
});
