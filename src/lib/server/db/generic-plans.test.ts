// The app's prepared statements may run a generic plan (prepared.ts: plan_cache_mode auto),
// made once for every value of their parameters, and on PGlite kept until the server stops. So
// each statement's generic plan must already be a good one on a new, nearly empty database:
// no sequential scan of a table that grows with use, and the claim's pick from the queue by
// its partial index. Statuses are written into the statements for that (db/literal.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { drivers, type TestDatabase } from '../../../../tests/helpers/db';
import { jobParams, useBroker } from '../../../../tests/helpers/broker-fixture';
import { makePng } from '../../../../harness/test-island';
import { getBalances } from '../ledger';
import { createSession, resolveSession } from '../auth/sessions';
import { hit } from '../rate-limit/counter';
import { cancelJob, claimOnce, completeJob, listOwnBatches, reapOnce, submitJob, type Broker } from '../jobs';
import { escrowedBy, forfeitEscrow, releaseDueEscrow } from '../trust/escrow';
import { PLANNED_EACH_TIME } from './prepared';
import { genericPlanProblems } from '../../../../tests/helpers/generic-plans';

describe.each(drivers)('generic plans on %s', (driver) => {
	// One connection: PostgreSQL's prepared statements and plans belong to a connection.
	const fixture = useBroker(driver, { poolSize: 1 });
	const { user, island } = fixture;
	let t: TestDatabase;
	let broker: Broker;
	beforeAll(() => {
		({ t, broker } = fixture);
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

		const { statements, problems, plan } = await genericPlanProblems(t.db);
		const onJobs = statements.filter((s) => /from "jobs"|update "jobs"|into "jobs"/.test(s.statement));
		expect(onJobs.length).toBeGreaterThanOrEqual(5);
		expect(problems).toEqual([]);
		// The escrow statements whose generic plans went wrong as tables grew are planned each time.
		expect(statements.filter((s) => s.statement.includes(`"escrow" = 'held'`)).map((s) => s.statement)).toEqual([]);
		expect(statements.filter((s) => s.statement.includes(PLANNED_EACH_TIME))).toEqual([]);

		// The claim picks the oldest queued job by the queue's partial index.
		const pick = statements.find((s) => s.statement.startsWith('update "jobs" set "status"') && s.statement.includes(`"status" = 'queued'`) && s.statement.includes('limit'));
		expect(pick, 'the claim statement').toBeDefined();
		expect(await plan(pick!)).toMatch(/jobs_queue_idx/);
		// And the hot ones do run generic plans: what saves planning every statement.
		const posting = statements.find((s) => s.statement.trimStart().startsWith('with m (account_id, amount'));
		expect(posting?.generic).toBeGreaterThan(0);
		expect(pick!.generic).toBeGreaterThan(0);
	});
});
