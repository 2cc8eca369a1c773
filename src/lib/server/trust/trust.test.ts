// Trust's paths the HTTP tests reach only by chance, driven directly against a real database
// (PGlite, and PostgreSQL with TEST_DATABASE_URL): a result too fast for its backend is
// checked at once; a disagreement between two non-vouched Islands goes to a third run, which
// quarantines whichever lied; escrow reaches the owner once its window passed.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { and, eq, sql } from 'drizzle-orm';
import { drivers, openTestDatabase, type TestDatabase } from '../../../../tests/helpers/db';
import { genericPlanProblems } from '../../../../tests/helpers/generic-plans';
import { TRUST_OFF } from '../../../../harness/broker';
import { drawFor } from '../../../../harness/test-island';
import { createUser, type SessionUser } from '../auth/users';
import { images, islands, jobs, users } from '../db/schema';
import { checkLedger, getBalances, purchase } from '../ledger';
import { claimOnce, completeJob, createBroker, recordHeartbeat, reapOnce, registerIsland, reportFailure, submitJob } from '../jobs';
import type { BrokerEvent } from '../events';
import { until } from '../../../../harness/until';
import { quarantineIsland } from './quarantine';

describe.each(drivers)('trust verdicts on %s', (driver) => {
	let t: TestDatabase;
	let broker: Awaited<ReturnType<typeof createBroker>>;
	beforeAll(async () => {
		for (const [name, value] of Object.entries(TRUST_OFF)) vi.stubEnv(name, value);
		t = await openTestDatabase(driver, 30);
		broker = await createBroker(t);
	});
	afterEach(() => {
		vi.stubEnv('TRUST_NEW_ISLAND_SPOT_CHECK_RATE', '0');
		vi.stubEnv('TRUST_SPEED_BOUND_FACTOR', '1');
		vi.stubEnv('TRUST_QUARANTINE_AFTER_FAILURES', '20');
	});
	afterAll(async () => {
		// Every statement trust made named has a generic plan fit for a grown database (generic-plans.test.ts).
		expect((await genericPlanProblems(t.db)).problems).toEqual([]);
		vi.unstubAllEnvs();
		expect((await checkLedger(t.db)).problems).toEqual([]);
		await broker.close();
		await t.dispose();
	});

	async function user(credits = 0): Promise<SessionUser> {
		const row = (await createUser(t.db, `${crypto.randomUUID()}@example.com`, 'x'))!;
		await t.db.update(users).set({ kycStatus: 'verified' }).where(eq(users.id, row.id));
		if (credits) await t.db.transaction((tx) => purchase(tx, row.id, credits, 'test'));
		return { id: row.id, email: row.email, kycStatus: 'verified', isAdmin: false };
	}
	async function island(backend: 'node' | 'webgpu' = 'webgpu') {
		const owner = await user();
		const { island } = await registerIsland(t.db, owner.id, { name: 'i', models: ['demo'], maxPixels: 512 * 512 });
		await recordHeartbeat(t.db, island.id, { backend, models: ['demo'], maxPixels: 512 * 512 });
		return { id: island.id, userId: owner.id, ownerId: owner.id, models: ['demo'], maxPixels: 512 * 512, probation: false, vouched: false };
	}
	type Isl = Awaited<ReturnType<typeof island>>;
	/** Claims the next job and answers it with the honest picture, or a made-up one. */
	async function answer(isl: Isl, lie = false) {
		const { claim } = await claimOnce(broker, isl);
		if (!claim) throw new Error('nothing to claim');
		const params = lie ? { ...claim.job.params, prompt: 'made up' } : claim.job.params;
		await completeJob(broker, isl, claim.job.id, claim.lease.token, drawFor(params));
		return claim.job.id;
	}
	const row = async (id: string) => (await t.db.select().from(jobs).where(eq(jobs.id, id)))[0];
	const trustOf = async (id: string) => (await t.db.select().from(islands).where(eq(islands.id, id)))[0];
	const params = { prompt: 'a red star', model: 'demo', width: 512, height: 512, steps: 30 };

	it('checks at once a result faster than its backend can draw it', async () => {
		// Bounds a thousandth of the real ones: however loaded the machine, this answer beats them.
		vi.stubEnv('TRUST_SPEED_BOUND_FACTOR', '0.001');
		const requester = await user(500);
		const fast = await island('node');
		const job = await submitJob(broker, requester, params);
		// Drawn before the claim: the answer comes back as fast as a made-up one would.
		const png = drawFor(job.params);
		const { claim } = await claimOnce(broker, fast);
		await completeJob(broker, fast, claim!.job.id, claim!.lease.token, png);
		expect((await row(job.id)).verification).toBe('checking');
		expect((await trustOf(fast.id)).speedFlags).toBe(1);
		const [check] = await t.db.select().from(jobs).where(eq(jobs.subjectJobId, job.id));
		expect(check).toMatchObject({ kind: 'check', status: 'queued', barredOwners: [fast.userId] });
		// Another owner's honest Island confirms it.
		vi.stubEnv('TRUST_SPEED_BOUND_FACTOR', '1000');
		await answer(await island());
		expect((await row(job.id)).verification).toBe('confirmed');
		// Under the bound, nothing is flagged and no check is forced (the spot-check rate is 0 here).
		const slow = await island('node');
		const other = await submitJob(broker, requester, params);
		await answer(slow);
		expect((await trustOf(slow.id)).speedFlags).toBe(0);
		expect((await row(other.id)).verification).toBe('unchecked');
	});

	it.each([
		['the checker lied: the third run sides with the requester’s picture', 'checker'],
		['the first Island lied: the third run sides with the check, the picture is replaced', 'subject']
	] as const)('settles a disagreement by a third owner’s run (%s)', async (_, liar) => {
		vi.stubEnv('TRUST_NEW_ISLAND_SPOT_CHECK_RATE', '1');
		const requester = await user(500);
		const [a, b, c] = [await island(), await island(), await island()];
		const job = await submitJob(broker, requester, { ...params, width: 256, height: 256, steps: 4 });
		await answer(a, liar === 'subject');
		const firstImage = (await row(job.id)).imageId;
		vi.stubEnv('TRUST_NEW_ISLAND_SPOT_CHECK_RATE', '0');
		await answer(b, liar === 'checker');
		expect((await row(job.id)).verification).toBe('disputed');
		// The third run is barred from both owners: a's and b's Islands can't take it.
		expect((await claimOnce(broker, a)).claim).toBeNull();
		await answer(c);
		const liarIsland = liar === 'subject' ? a : b;
		expect((await trustOf(liarIsland.id)).trust).toBe('quarantined');
		expect((await trustOf((liar === 'subject' ? b : a).id)).trust).not.toBe('quarantined');
		const after = await row(job.id);
		expect(after.verification).toBe(liar === 'subject' ? 'replaced' : 'confirmed');
		const [old] = await t.db.select().from(images).where(eq(images.id, firstImage!));
		expect(old.withdrawnAt !== null).toBe(liar === 'subject');
		expect(await getBalances(t.db, requester.id)).toEqual({ available: 500 - job.cost, held: 0 });
		expect((await checkLedger(t.db)).problems).toEqual([]);
		if (liar === 'subject') {
			// The picture shown now is b's: should b be caught later, this job is redrawn again.
			await t.db.transaction((tx) => quarantineIsland(tx, b.id, 'caught later'));
			expect((await row(job.id)).verification).toBe('redoing');
			const reruns = await t.db.select().from(jobs).where(eq(jobs.subjectJobId, job.id));
			expect(reruns.filter((r) => r.kind === 'rerun' && r.status === 'queued' && r.barredOwners.includes(b.userId))).toHaveLength(1);
			await answer(c);
			expect((await row(job.id)).verification).toBe('confirmed');
		}
	});

	it('releases escrow to the owner once its window passed, and not before', async () => {
		const requester = await user(500);
		const isl = await island();
		const job = await submitJob(broker, requester, params);
		await answer(isl);
		const { earned } = await row(job.id);
		expect(earned).toBeGreaterThan(0);
		await reapOnce(broker);
		expect((await getBalances(t.db, isl.userId)).available).toBe(0);
		await t.db.update(jobs).set({ finishedAt: sql`now() - interval '73 hours'` }).where(eq(jobs.id, job.id));
		expect((await reapOnce(broker)).released).toBeGreaterThanOrEqual(1);
		expect((await getBalances(t.db, isl.userId)).available).toBe(earned);
		expect((await row(job.id)).escrow).toBe('released');
	});

	it('keeps escrow from an owner whose verification was revoked, until verified again', async () => {
		const requester = await user(500);
		const isl = await island();
		const job = await submitJob(broker, requester, params);
		await answer(isl);
		const { earned } = await row(job.id);
		await t.db.update(jobs).set({ finishedAt: sql`now() - interval '73 hours'` }).where(eq(jobs.id, job.id));
		await t.db.update(users).set({ kycStatus: 'rejected' }).where(eq(users.id, isl.userId));
		await reapOnce(broker);
		expect((await getBalances(t.db, isl.userId)).available).toBe(0);
		expect((await row(job.id)).escrow).toBe('held');
		await t.db.update(users).set({ kycStatus: 'verified' }).where(eq(users.id, isl.userId));
		await reapOnce(broker);
		expect((await getBalances(t.db, isl.userId)).available).toBe(earned);
		expect((await row(job.id)).escrow).toBe('released');
	});

	// Last: the rerun it leaves queued would be the next test's first claim.
	it('announces at once the reruns of an Island its failures quarantined', async () => {
		vi.stubEnv('TRUST_QUARANTINE_AFTER_FAILURES', '5');
		// Each failed job goes back to the queue: five of them stay in flight, past the default queue limit.
		vi.stubEnv('MAX_ACTIVE_JOBS_PER_USER', '100');
		const requester = await user(5000);
		const isl = await island();
		const done = await submitJob(broker, requester, params);
		await answer(isl);
		const events: BrokerEvent[] = [];
		const unsubscribe = broker.bus.subscribe((e) => void events.push(e));
		try {
			for (let i = 0; i < 5; i++) {
				const job = await submitJob(broker, requester, params);
				const { claim } = await claimOnce(broker, isl);
				expect(claim?.job.id).toBe(job.id);
				await reportFailure(broker, isl.id, job.id, { lease: claim!.lease.token, reason: 'no' });
			}
			expect((await trustOf(isl.id)).trust).toBe('quarantined');
			const [rerun] = await t.db.select().from(jobs).where(and(eq(jobs.subjectJobId, done.id), eq(jobs.kind, 'rerun')));
			expect(rerun).toBeDefined();
			// Published by the failure call itself, not found by the reaper's re-check later.
			await until('the rerun announced', async () => events.some((e) => e.type === 'queued' && e.id === rerun.id), 5_000);
		} finally {
			unsubscribe();
		}
	});
});
