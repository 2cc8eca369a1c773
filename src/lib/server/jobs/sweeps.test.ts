// The reaper and the periodic sweeps against a real database (PGlite, and PostgreSQL with
// TEST_DATABASE_URL): expired leases back to the queue or failed with a refund, Islands gone
// quiet, expired sessions, rate-limit rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { drivers, openTestDatabase, type TestDatabase } from '../../../../tests/helpers/db';
import { jobParams, useBroker } from '../../../../tests/helpers/broker-fixture';
import { makePng } from '../../../../harness/test-island';
import { createSession } from '../auth/sessions';
import { islands, sessions } from '../db/schema';
import { getBalances } from '../ledger';
import { completeJob, createBroker, reapOnce, recordHeartbeat, submitJob, type Broker } from './index';
import { periodicSweep } from './runtime';

describe.each(drivers)('the reaper on %s', (driver) => {
	const fixture = useBroker(driver);
	const { user, island, claim, expireLease, row } = fixture;
	const params = jobParams;
	let t: TestDatabase;
	let broker: Broker;
	beforeAll(() => {
		({ t, broker } = fixture);
	});

	it('returns expired leases to the queue, never to an owner who dropped it, and fails with a refund after 3 owners', async () => {
		const requester = await user(100);
		const job = await submitJob(broker, requester, params);
		for (let attempt = 1; attempt <= 3; attempt++) {
			const isl = await island(await user(0));
			const got = (await claim(isl))!;
			expect(got.job).toMatchObject({ id: job.id, attempt });
			await reapOnce(broker); // not expired yet: nothing moves
			expect((await row(job.id)).status).toBe('running');
			await expireLease(job.id);
			const reaped = await reapOnce(broker);
			expect(reaped.jobs.map((j) => j.id)).toEqual([job.id]);
			// The late Island's result is refused, and nothing is settled.
			await expect(completeJob(broker, isl, job.id, got.lease.token, makePng(256, 256))).rejects.toMatchObject({ status: 409 });
			// The owner who dropped it never gets it back, even from another of their Islands.
			expect(await claim(await island({ ...requester, id: isl.userId }))).toBeNull();
		}
		expect(await row(job.id)).toMatchObject({ status: 'failed', attempts: 3, refunded: 10, failureCode: 'island_unresponsive' });
		expect((await row(job.id)).failedOwners).toHaveLength(3);
		expect(await getBalances(t.db, requester.id)).toEqual({ available: 100, held: 0 });
	});

	it('marks Islands without a heartbeat offline', async () => {
		const owner = await user(0);
		const isl = await island(owner);
		await recordHeartbeat(t.db, isl.id, { backend: 'wasm', models: ['demo'] });
		await reapOnce(broker);
		expect((await t.db.select().from(islands).where(eq(islands.id, isl.id)))[0].online).toBe(true);
		await t.db.update(islands).set({ lastHeartbeatAt: sql`now() - interval '5 minutes'` }).where(eq(islands.id, isl.id));
		const { offline } = await reapOnce(broker);
		expect(offline.map((o) => o.id)).toContain(isl.id);
		expect((await t.db.select().from(islands).where(eq(islands.id, isl.id)))[0].online).toBe(false);
	});

	it('purges expired sessions on the first sweep, then at most once per interval', async () => {
		const someone = await user(0);
		const session = async (expired: boolean) => {
			await createSession(t.db, someone.id);
			const [row] = await t.db.select().from(sessions).where(eq(sessions.userId, someone.id)).orderBy(sql`${sessions.expiresAt} desc`);
			if (expired) await t.db.update(sessions).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(sessions.id, row.id));
			return row.id;
		};
		const exists = async (id: string) => (await t.db.select().from(sessions).where(eq(sessions.id, id))).length === 1;
		const expired = await session(true);
		const live = await session(false);
		const sweep = periodicSweep(broker, 3_600_000);
		expect((await sweep()).sessionsPurged).toBeGreaterThanOrEqual(1);
		expect(await exists(expired)).toBe(false);
		expect(await exists(live)).toBe(true);
		// Within the hour the sweep reaps jobs but leaves sessions alone.
		const later = await session(true);
		expect((await sweep()).sessionsPurged).toBeNull();
		expect(await exists(later)).toBe(true);
	});
});

describe.each(drivers)('the hourly sweep of rate-limit rows on %s', (driver) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(driver);
	});
	afterAll(() => t.dispose());

	it('deletes windows long over and remembered addresses past 90 days, and keeps the rest', async () => {
		const broker = await createBroker(t);
		const row = (key: string, age: string) =>
			t.db.execute(sql`insert into rate_limit_counters (key, window_start, count) values (${key}, now() - ${age}::interval, 1)`);
		await row('jobsUser:old', '2 days');
		await row('jobsUser:new', '1 minute');
		await row('known:a@example.com|1.2.3.4', '30 days');
		await row('known:b@example.com|1.2.3.4', '91 days');
		await periodicSweep(broker, 3_600_000)();
		const left = (await t.db.execute(sql`select key from rate_limit_counters order by key`)).rows.map((r) => (r as { key: string }).key);
		expect(left).toEqual(['jobsUser:new', 'known:a@example.com|1.2.3.4']);
		await broker.close();
	});
});
