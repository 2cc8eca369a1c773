// A broker on a real database for the broker's own tests (src/lib/server/jobs/*.test.ts):
// opened before a describe block's tests, its ledger checked and closed after them.
import { afterAll, beforeAll, expect, vi } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { openTestDatabase, type Driver, type TestDatabase } from './db';
import { TRUST_OFF } from '../../harness/broker';
import { createUser, type SessionUser } from '../../src/lib/server/auth/users';
import { jobs, users } from '../../src/lib/server/db/schema';
import { checkLedger, purchase } from '../../src/lib/server/ledger';
import { claimOnce, createBroker, registerIsland } from '../../src/lib/server/jobs';

export const jobParams = { prompt: 'a red circle', model: 'demo', width: 256, height: 256, steps: 4 };

/**
 * The dispatch itself, without trust's probation and spot checks (trust.test.ts has those),
 * several leases per Island so one Island can race many claims, and room for one requester to
 * queue 40 jobs at once (tests/api/batches.test.ts has the per-user limit).
 */
export function useBroker(driver: Driver, options: { poolSize?: number } = {}) {
	/** Every statement drizzle sends (BEGIN and COMMIT aren't logged), with its parameters. */
	const statements: { query: string; params: unknown[] }[] = [];
	let t: TestDatabase;
	let broker: Awaited<ReturnType<typeof createBroker>>;
	beforeAll(async () => {
		for (const [name, value] of Object.entries(TRUST_OFF)) vi.stubEnv(name, value);
		vi.stubEnv('ISLAND_MAX_LEASES', '8');
		vi.stubEnv('MAX_ACTIVE_JOBS_PER_USER', '100');
		t = await openTestDatabase(driver, options.poolSize ?? 30, { logQuery: (query, params) => statements.push({ query, params }) });
		broker = await createBroker(t);
	});
	afterAll(async () => {
		vi.unstubAllEnvs();
		expect((await checkLedger(t.db)).problems).toEqual([]);
		await broker.close();
		await t.dispose();
	});

	/** A verified requester or owner, with credits bought. */
	async function user(credits: number): Promise<SessionUser> {
		const row = (await createUser(t.db, `${crypto.randomUUID()}@example.com`, 'x'))!;
		await t.db.update(users).set({ kycStatus: 'verified' }).where(eq(users.id, row.id));
		if (credits) await t.db.transaction((tx) => purchase(tx, row.id, credits, 'test'));
		return { id: row.id, email: row.email, kycStatus: 'verified', isAdmin: false };
	}
	/** A trusted Island of the owner's, as a claim names it. */
	async function island(owner: SessionUser) {
		const { island } = await registerIsland(t.db, owner.id, { name: 'i', models: ['demo'], maxPixels: 512 * 512 });
		return { id: island.id, userId: owner.id, ownerId: owner.id, models: ['demo'], maxPixels: 512 * 512, probation: false, vouched: false };
	}
	return {
		get t() {
			return t;
		},
		get broker() {
			return broker;
		},
		statements,
		user,
		island,
		claim: async (isl: Awaited<ReturnType<typeof island>>) => (await claimOnce(broker, isl)).claim,
		expireLease: (id: string) => t.db.update(jobs).set({ leaseExpiresAt: sql`now() - interval '1 second'` }).where(eq(jobs.id, id)),
		row: async (id: string) => (await t.db.select().from(jobs).where(eq(jobs.id, id)))[0]
	};
}
