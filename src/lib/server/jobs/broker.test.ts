// The broker against a real database (PGlite, and PostgreSQL with TEST_DATABASE_URL): races
// on claims and settlement, the statements a claim and a result send, the history, lease TTLs,
// the event bus. The reaper and the periodic sweeps: sweeps.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { drivers, type TestDatabase } from '../../../../tests/helpers/db';
import { jobParams, useBroker } from '../../../../tests/helpers/broker-fixture';
import { makePng } from '../../../../harness/test-island';
import { islands, jobProgress, jobs, ledgerAccounts, users } from '../db/schema';
import { checkLedger, getBalances, ledgerAccount } from '../ledger';
import { PostgresEventBus, type BrokerEvent } from '../events';
import { claimOnce, longPollClaim, cancelJob, completeJob, listOwnBatches, reportProgress, submitJob, submitJobs, leaseTtlMs, reapOnce, type Broker } from './index';
import { LEASE_FLOOR_MS } from './lease';

describe.each(drivers)('broker on %s', (driver) => {
	const fixture = useBroker(driver);
	const { statements, user, island, claim, row } = fixture;
	const params = jobParams;
	let t: TestDatabase;
	let broker: Broker;
	beforeAll(() => {
		({ t, broker } = fixture);
	});
	const escrowOf = async (islandId: string) =>
		(await t.db.select().from(ledgerAccounts).where(eq(ledgerAccounts.id, ledgerAccount.escrow(islandId))))[0]?.balance ?? 0;

	it('leases each job to exactly one of many concurrent claimers, oldest first', async () => {
		const requester = await user(2000);
		const owner = await user(0);
		const ids: string[] = [];
		for (let i = 0; i < 40; i++) ids.push((await submitJob(broker, requester, params)).id);
		const islandsList = await Promise.all(Array.from({ length: 10 }, () => island(owner)));
		const claims = await Promise.all(Array.from({ length: 80 }, (_, i) => claim(islandsList[i % 10]).catch(() => null)));
		const got = claims.filter((c) => c !== null).map((c) => c!.job.id);
		expect(got).toHaveLength(40);
		expect(new Set(got).size).toBe(40);
		const rows = await t.db.select().from(jobs).where(eq(jobs.userId, requester.id));
		expect(rows.every((r) => r.status === 'running' && r.attempts === 1)).toBe(true);
		// Sequential claims come out in submission order.
		for (const id of ids) await cancelJob(broker, requester.id, id);
		const again = [(await submitJob(broker, requester, params)).id, (await submitJob(broker, requester, params)).id];
		expect((await claim(islandsList[0]))!.job.id).toBe(again[0]);
		expect((await claim(islandsList[0]))!.job.id).toBe(again[1]);
		for (const id of again) await cancelJob(broker, requester.id, id);
	});

	// Most claims find nothing: an Island back from its result, a long-poll's 10-second re-check.
	// They used to run the locked transaction (lock the Island, count its leases, try the guarded
	// UPDATE): three statements and a BEGIN/COMMIT to learn that the queue was empty.
	it('answers a claim that finds nothing with one unlocked statement, refusals included', async () => {
		const owner = await user(0);
		// A model no other test here queues: the queue is empty for it.
		const isl = { ...(await island(owner)), models: ['objects'] };
		const mine = () => statements.filter((s) => s.params.includes(isl.id));
		statements.length = 0;
		// timeoutMs 0: one look at the queue, no sleep and no second look.
		expect(await longPollClaim(broker, isl, { timeoutMs: 0 })).toBeNull();
		expect(mine().map((s) => s.query)).toEqual([expect.not.stringMatching(/for update|^update/)]);

		// A job it may take is claimed as before (the locked transaction decides).
		const requester = await user(100);
		const job = await submitJob(broker, requester, { ...params, prompt: 'a red apple', model: 'objects' });
		expect((await longPollClaim(broker, isl, { timeoutMs: 0 }))?.job.id).toBe(job.id);
		await cancelJob(broker, requester.id, job.id);
		// An unverified owner's Island is still told so, queue empty or not.
		await t.db.update(users).set({ kycStatus: 'unverified' }).where(eq(users.id, owner.id));
		await expect(longPollClaim(broker, isl, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'owner_not_verified' });
	});

	// The lease count is part of the claim's guarded UPDATE (underLeaseLimit), not a statement
	// of its own: concurrent claims of one Island must still stop at its limit (8 here).
	// PostgreSQL: the Island's row lock, then the guarded UPDATE. PGlite runs one transaction at a
	// time, so the lock ordered nothing there: the UPDATE alone re-checks the Island's standing.
	it('claims with two statements on PostgreSQL and one on PGlite, and never past the Island\'s lease limit under concurrent claims', async () => {
		const requester = await user(1000);
		const isl = { ...(await island(await user(0))), models: ['objects'] };
		const ids: string[] = [];
		for (let i = 0; i < 12; i++) ids.push((await submitJob(broker, requester, { ...params, prompt: `a red apple ${i}`, model: 'objects' })).id);
		expect(await claim(isl)).not.toBeNull(); // its first claim also ends its probation (TRUST_OFF)
		statements.length = 0;
		expect(await claim(isl)).not.toBeNull();
		expect(statements.map((s) => s.query).filter((q) => !/^(begin|commit)$/i.test(q))).toEqual(
			driver === 'postgres' ? [expect.stringMatching(/for update/), expect.stringMatching(/^update "jobs"/)] : [expect.stringMatching(/^update "jobs"/)]
		);
		const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => claim(isl)));
		expect(outcomes.filter((o) => o.status === 'fulfilled' && o.value)).toHaveLength(6);
		expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.code)).toEqual(Array(4).fill('lease_limit'));
		for (const id of ids) await cancelJob(broker, requester.id, id);
	});

	// A claim's Island is read when its request arrives; a long-poll may sleep 25 s before a job
	// wakes it. What changed meanwhile decides: on PGlite the UPDATE's own re-check, then the
	// locked transaction with the row as it is now.
	it('gives nothing to a claim whose Island was quarantined or whose owner lost verification while it waited, and claims by its standing now', async () => {
		const requester = await user(100);
		const owner = await user(0);
		const asRequested = await island(owner);
		await submitJob(broker, requester, params);
		await claim(asRequested).then((c) => cancelJob(broker, requester.id, c!.job.id)); // its first claim ends its probation (TRUST_OFF)
		const again = await submitJob(broker, requester, params);
		await t.db.update(islands).set({ trust: 'quarantined', quarantineReason: 'test' }).where(eq(islands.id, asRequested.id));
		await expect(claim(asRequested)).rejects.toMatchObject({ status: 403, code: 'island_quarantined' });
		await t.db.update(islands).set({ trust: 'trusted', quarantineReason: null }).where(eq(islands.id, asRequested.id));
		await t.db.update(users).set({ kycStatus: 'rejected' }).where(eq(users.id, owner.id));
		await expect(claim(asRequested)).rejects.toMatchObject({ status: 403, code: 'owner_not_verified' });
		await t.db.update(users).set({ kycStatus: 'verified' }).where(eq(users.id, owner.id));
		expect((await row(again.id)).status).toBe('queued');
		// Vouched meanwhile: the claim is decided with its standing now, and still takes the job.
		await t.db.update(islands).set({ vouched: true }).where(eq(islands.id, asRequested.id));
		const { claim: got, claimant } = await claimOnce(broker, asRequested);
		expect(got?.job.id).toBe(again.id);
		expect(claimant.vouched).toBe(true);
		await cancelJob(broker, requester.id, again.id);
	});

	// Another instance may still remember a removed Island's token (requireIslandIdentity) until
	// the removal's event reaches it: the Island's calls must still be told it no longer exists.
	it('answers 401 to a call about a job of an Island that was removed meanwhile', async () => {
		const requester = await user(100);
		const isl = await island(await user(0));
		const job = await submitJob(broker, requester, params);
		const got = (await claim(isl))!;
		await t.db.delete(islands).where(eq(islands.id, isl.id));
		await expect(completeJob(broker, isl, job.id, got.lease.token, makePng(256, 256))).rejects.toMatchObject({ status: 401, code: 'invalid_island_token' });
		await expect(reportProgress(broker, isl.id, job.id, { lease: got.lease.token, step: 1, total: 4 })).rejects.toMatchObject({ status: 401 });
		await cancelJob(broker, requester.id, job.id);
	});

	// The requester's row lock makes concurrent submits take turns on PostgreSQL; PGlite runs one
	// transaction at a time, so there it was a statement that never waited (batches.test.ts races
	// 12 submits against the per-user limit on both).
	it('locks the requester\'s row at submit on PostgreSQL only', async () => {
		const requester = await user(100);
		statements.length = 0;
		await cancelJob(broker, requester.id, (await submitJob(broker, requester, params)).id);
		expect(statements.some((s) => /for no key update/.test(s.query))).toBe(driver === 'postgres');
	});

	// A result used to read its job before the transaction, and delete the job's progress row in
	// it: two statements on every job. The guarded UPDATE's row is what the PNG is checked
	// against now, and the sweep deletes finished jobs' progress rows many at a time.
	it('stores a result without reading its job first, and leaves its progress row to the sweep', async () => {
		const requester = await user(100);
		const isl = await island(await user(0));
		const job = await submitJob(broker, requester, params);
		const got = (await claim(isl))!;
		await reportProgress(broker, isl.id, job.id, { lease: got.lease.token, step: 2, total: 4 });
		statements.length = 0;
		await completeJob(broker, isl, job.id, got.lease.token, makePng(256, 256));
		// node-postgres's drizzle logs BEGIN and COMMIT; PGlite's doesn't.
		const queries = statements.map((s) => s.query).filter((q) => !/^(begin|commit)$/i.test(q));
		expect(queries[0]).toMatch(/^update "jobs" set "status"/);
		expect(queries.filter((q) => /job_progress/.test(q))).toEqual([]);
		expect(await row(job.id)).toMatchObject({ status: 'completed' });
		// A bad picture still rolls back and requeues (its statement count isn't the point here).
		const other = await submitJob(broker, requester, params);
		const lease = (await claim(isl))!.lease.token;
		await expect(completeJob(broker, isl, other.id, lease, new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ status: 422, code: 'invalid_png' });
		expect(await row(other.id)).toMatchObject({ status: 'queued', imageId: null });
		await cancelJob(broker, requester.id, other.id);
		// The sweep removes the progress of every job no longer running, and only those.
		expect((await reapOnce(broker)).progressCleared).toBeGreaterThanOrEqual(1);
		expect(await t.db.select().from(jobProgress).where(eq(jobProgress.jobId, job.id))).toEqual([]);
	});

	// The result's UPDATE writes the pay its settlement records (trust/escrow.ts expectedPay), so a
	// job's pay is no UPDATE of its own; when the settlement pays otherwise it is written again.
	it("writes a job's pay in the result's UPDATE, and again only when the settlement paid otherwise", async () => {
		const requester = await user(100);
		const owner = await user(0);
		const isl = await island(owner);
		const payWrites = () => statements.filter((s) => /^update "jobs" set "earned"/.test(s.query));
		const complete = async (id: string, claimant = isl) => {
			const got = (await claim(claimant))!;
			statements.length = 0;
			await completeJob(broker, claimant, id, got.lease.token, makePng(256, 256));
		};
		const held = await submitJob(broker, requester, params);
		await complete(held.id);
		expect(payWrites()).toEqual([]);
		expect(await row(held.id)).toMatchObject({ earned: 8, escrow: 'held' });
		// A vouched Island is paid directly: nothing waits in escrow.
		await t.db.update(islands).set({ vouched: true }).where(eq(islands.id, isl.id));
		const direct = await submitJob(broker, requester, params);
		await complete(direct.id, { ...isl, vouched: true });
		expect(payWrites()).toEqual([]);
		expect(await row(direct.id)).toMatchObject({ earned: 8, escrow: null });
		expect(await getBalances(t.db, owner.id)).toEqual({ available: 8, held: 0 });
		await t.db.update(islands).set({ vouched: false }).where(eq(islands.id, isl.id));
		// The UPDATE reckons from the job's cost, the settlement pays from its hold: made to differ
		// here, the row gets what was paid.
		const odd = await submitJob(broker, requester, params);
		await t.db.update(jobs).set({ cost: 50 }).where(eq(jobs.id, odd.id));
		await complete(odd.id);
		await t.db.update(jobs).set({ cost: 10 }).where(eq(jobs.id, odd.id));
		expect(payWrites()).toHaveLength(1);
		expect(await row(odd.id)).toMatchObject({ earned: 8, escrow: 'held' });
		expect(await escrowOf(isl.id)).toBe(16);
		expect((await checkLedger(t.db)).problems).toEqual([]);
	});

	it('settles or cancels a job, never both, when a result and a cancel race', async () => {
		const requester = await user(1000);
		const owner = await user(0);
		const isl = await island(owner);
		const outcomes: string[] = [];
		for (let i = 0; i < 15; i++) {
			const job = await submitJob(broker, requester, params);
			const got = (await claim(isl))!;
			const [done, cancel] = await Promise.allSettled([
				completeJob(broker, isl, job.id, got.lease.token, makePng(256, 256)),
				cancelJob(broker, requester.id, job.id)
			]);
			expect([done.status, cancel.status].filter((s) => s === 'fulfilled')).toHaveLength(1);
			outcomes.push((await row(job.id)).status);
		}
		expect(outcomes.every((s) => s === 'completed' || s === 'cancelled')).toBe(true);
		const charged = outcomes.filter((s) => s === 'completed').length * 10;
		expect(await getBalances(t.db, requester.id)).toEqual({ available: 1000 - charged, held: 0 });
		// The owner's share waits in the Island's escrow for its window (trust/escrow.ts).
		expect(await getBalances(t.db, owner.id)).toEqual({ available: 0, held: 0 });
		expect(await escrowOf(isl.id)).toBe(charged * 0.8);
		expect((await checkLedger(t.db)).problems).toEqual([]);
	});

	it('lists whole requests for the history, newest first, however many images each has', async () => {
		const requester = await user(500);
		const single = (await submitJobs(broker, requester, { ...params, prompt: 'one' })).body.jobs;
		const four = (await submitJobs(broker, requester, { ...params, prompt: 'four' }, { count: 4 })).body.jobs;
		const two = (await submitJobs(broker, requester, { ...params, prompt: 'two' }, { count: 2 })).body.jobs;
		const ids = (batches: { id: string }[][]) => batches.map((b) => b.map((j) => j.id));
		expect(ids(await listOwnBatches(broker, requester.id, 10))).toEqual(ids([two, four, single]));
		// The limit counts requests, not images: a batch is never cut in half.
		expect(ids(await listOwnBatches(broker, requester.id, 2))).toEqual(ids([two, four]));
		for (const job of [...single, ...four, ...two]) await cancelJob(broker, requester.id, job.id);
	});

	it('grows the lease with steps × pixels, from a floor', () => {
		expect(leaseTtlMs(1, 256 * 256)).toBe(LEASE_FLOOR_MS);
		expect(leaseTtlMs(30, 512 * 512)).toBeGreaterThan(leaseTtlMs(30, 256 * 256));
		expect(leaseTtlMs(50, 1024 * 1024)).toBeGreaterThan(leaseTtlMs(30, 1024 * 1024));
	});

	it.runIf(driver === 'postgres')('delivers events between two PostgreSQL buses (two instances)', async () => {
		if (t.driver !== 'postgres') return;
		const other = new PostgresEventBus(t.url, t.pool);
		await other.start();
		const got = new Promise<BrokerEvent>((resolve) => other.subscribe(resolve));
		await broker.bus.publish({ type: 'job', id: 'hello' });
		expect(await got).toEqual({ type: 'job', id: 'hello' });
		await other.close();
	});
});
