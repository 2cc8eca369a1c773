// Deletion's effects inside the database, which the HTTP tests can't see: every personal row
// gone, the ledger's accounts closed and balanced, a deleted picture never checked or redrawn
// again. On PGlite, and PostgreSQL with TEST_DATABASE_URL.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { and, eq, like, sql } from 'drizzle-orm';
import { drivers, openTestDatabase, type TestDatabase } from '../../../../tests/helpers/db';
import { TRUST_OFF } from '../../../../harness/broker';
import { drawFor } from '../../../../harness/test-island';
import { createApiKey } from '../auth/api-keys';
import { createSession } from '../auth/sessions';
import { createUser, type SessionUser } from '../auth/users';
import { apiKeys, idempotencyKeys, images, islands, jobs, kycEvents, ledgerAccounts, promptRejections, rateLimitCounters, sessions, users } from '../db/schema';
import { AccountClosedError, checkLedger, getBalances, ledgerAccount, purchase } from '../ledger';
import { claimOnce, completeJob, createBroker, recordHeartbeat, registerIsland, submitJob } from '../jobs';
import { remember } from '../rate-limit/counter';
import { quarantineIsland } from '../trust/quarantine';
import { deleteAccount } from './account';
import { deleteJobImage } from './images';

describe.each(drivers)('deleting data on %s', (driver) => {
	let t: TestDatabase;
	let broker: Awaited<ReturnType<typeof createBroker>>;
	beforeAll(async () => {
		for (const [name, value] of Object.entries(TRUST_OFF)) vi.stubEnv(name, value);
		t = await openTestDatabase(driver, 30);
		broker = await createBroker(t);
	});
	afterEach(() => vi.stubEnv('TRUST_NEW_ISLAND_SPOT_CHECK_RATE', '0'));
	afterAll(async () => {
		vi.unstubAllEnvs();
		await broker.close();
		await t.dispose();
	});

	async function user(credits = 0): Promise<SessionUser> {
		const row = (await createUser(t.db, `${crypto.randomUUID()}@Example.com`, 'x'))!;
		await t.db.update(users).set({ kycStatus: 'verified' }).where(eq(users.id, row.id));
		if (credits) await t.db.transaction((tx) => purchase(tx, row.id, credits, 'test'));
		return { id: row.id, email: row.email, kycStatus: 'verified', isAdmin: false };
	}
	async function island(owner?: SessionUser) {
		const by = owner ?? (await user());
		const { island } = await registerIsland(t.db, by.id, { name: 'i', models: ['demo'], maxPixels: 512 * 512 });
		await recordHeartbeat(t.db, island.id, { backend: 'webgpu', models: ['demo'], maxPixels: 512 * 512 });
		return { id: island.id, userId: by.id, ownerId: by.id, models: ['demo'], maxPixels: 512 * 512, probation: false, vouched: false };
	}
	async function answer(isl: Awaited<ReturnType<typeof island>>) {
		const { claim } = await claimOnce(broker, isl);
		if (!claim) throw new Error('nothing to claim');
		await completeJob(broker, isl, claim.job.id, claim.lease.token, drawFor(claim.job.params));
		return claim.job.id;
	}
	const row = async (id: string) => (await t.db.select().from(jobs).where(eq(jobs.id, id)))[0];
	const params = { prompt: 'a red star', negativePrompt: 'blur', model: 'demo', width: 512, height: 512, steps: 30 };

	it('a deleted picture\'s pending spot check is cancelled, and its Island\'s quarantine does not redraw it', async () => {
		vi.stubEnv('TRUST_NEW_ISLAND_SPOT_CHECK_RATE', '1');
		const requester = await user(500);
		const drew = await island();
		const job = await submitJob(broker, requester, params);
		await answer(drew);
		expect((await row(job.id)).verification).toBe('checking');
		const [check] = await t.db.select().from(jobs).where(eq(jobs.subjectJobId, job.id));
		expect(check.status).toBe('queued');

		const view = await deleteJobImage(broker, requester.id, job.id);
		expect(view).toMatchObject({ imageUrl: null, params: { prompt: '' } });
		expect(view.params).not.toHaveProperty('negativePrompt');
		expect((await row(check.id)).status).toBe('cancelled');
		expect((await row(check.id)).params.prompt).toBe('');
		expect(await t.db.select().from(images).where(eq(images.jobId, job.id))).toEqual([]);

		await t.db.transaction((tx) => quarantineIsland(tx, drew.id, 'caught elsewhere'));
		const redo = await t.db.select().from(jobs).where(and(eq(jobs.subjectJobId, job.id), eq(jobs.kind, 'rerun')));
		expect(redo).toEqual([]);
		expect((await checkLedger(t.db)).problems).toEqual([]);
	});

	it('deleting an account leaves nothing personal, closes its ledger accounts at 0 and forfeits its Islands\' escrow', async () => {
		const person = await user(500);
		const other = await user(500);
		const theirIsland = await island();
		// The person's picture (drawn elsewhere), a job of theirs still queued, and their own
		// Island's earnings in escrow for another requester's job.
		await submitJob(broker, person, params);
		await answer(theirIsland);
		const queued = await submitJob(broker, person, params);
		const ownIsland = await island(person);
		// The person's queued job is the oldest: it goes first, to another owner's Island.
		const drawnForOther = await submitJob(broker, other, { ...params, prompt: 'a blue moon' });
		await answer(theirIsland);
		await answer(ownIsland);
		expect((await row(drawnForOther.id)).escrow).toBe('held');
		expect((await row(queued.id)).status).toBe('completed');
		const stillQueued = await submitJob(broker, person, params);

		await createSession(t.db, person.id);
		await createApiKey(t.db, person.id, 'script', ['jobs:read']);
		await t.db.insert(promptRejections).values({ userId: person.id, prompt: 'nope', field: 'prompt', terms: ['nope'] });
		await t.db.insert(idempotencyKeys).values({ userId: person.id, key: 'k', scope: 's', requestHash: 'h', responseStatus: 201, responseBody: {} });
		await t.db.insert(kycEvents).values({ userId: person.id, fromStatus: 'unverified', toStatus: 'verified', actor: 'user', actorUserId: person.id, provider: 'sandbox', reference: 'ref-1', details: { legalName: 'Ada Example', dateOfBirth: '1990-04-01', country: 'DE' } });
		await remember(t.db, `${person.email.toLowerCase()}|10.0.0.1`);

		expect(await deleteAccount(broker, person.id)).toBe(true);
		expect(await deleteAccount(broker, person.id)).toBe(false);

		const [gone] = await t.db.select().from(users).where(eq(users.id, person.id));
		expect(gone).toMatchObject({ email: `deleted-${person.id}@deleted.invalid`, passwordHash: '!', isAdmin: false });
		expect(gone.deletedAt).toBeInstanceOf(Date);
		for (const table of [sessions, apiKeys, promptRejections, idempotencyKeys, images] as const) {
			expect(await t.db.select().from(table).where(eq(table.userId, person.id))).toEqual([]);
		}
		expect(await t.db.select().from(rateLimitCounters).where(like(rateLimitCounters.key, `%${person.email.toLowerCase()}%`))).toEqual([]);
		const [kyc] = await t.db.select().from(kycEvents).where(eq(kycEvents.userId, person.id));
		expect(kyc).toMatchObject({ toStatus: 'verified', reference: 'ref-1', details: null });
		const mine = await t.db.select().from(jobs).where(eq(jobs.userId, person.id));
		expect(mine.every((j) => j.params.prompt === '' && j.imageId === null)).toBe(true);
		expect((await row(stillQueued.id))).toMatchObject({ status: 'cancelled', refunded: stillQueued.cost });

		// Ledger: the person's accounts closed at 0, their Island's escrow back to the platform.
		const accounts = await t.db.select().from(ledgerAccounts).where(sql`${ledgerAccounts.id} in (${ledgerAccount.available(person.id)}, ${ledgerAccount.held(person.id)}, ${ledgerAccount.escrow(ownIsland.id)})`);
		expect(accounts).toHaveLength(3);
		expect(accounts.every((a) => a.balance === 0 && a.closedAt !== null)).toBe(true);
		expect((await row(drawnForOther.id)).escrow).toBe('forfeited');
		const [retired] = await t.db.select().from(islands).where(eq(islands.id, ownIsland.id));
		expect(retired).toMatchObject({ trust: 'quarantined', name: 'Deleted Island', online: false });
		await expect(t.db.transaction((tx) => purchase(tx, person.id, 10, 'late'))).rejects.toBeInstanceOf(AccountClosedError);
		expect((await checkLedger(t.db)).problems).toEqual([]);

		// The other requester keeps everything: their job, drawn by the retired Island, is redrawn free.
		expect(await getBalances(t.db, other.id)).toEqual({ available: 500 - drawnForOther.cost, held: 0 });
		expect((await row(drawnForOther.id)).verification).toBe('redoing');
	});
});
