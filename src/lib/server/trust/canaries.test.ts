// Canaries are per model: each model's pool has prompts of its own domain, its reference runs
// go to vouched Islands that have that model, and an Island on probation is tested only with
// canaries of a model it advertises, judged against a reference of the same model.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { drivers, openTestDatabase, type TestDatabase } from '../../../../tests/helpers/db';
import { genericPlanProblems } from '../../../../tests/helpers/generic-plans';
import { drawFor } from '../../../../harness/test-island';
import { demoManifest, objectsManifest } from '$lib/models/registry';
import { createUser } from '../auth/users';
import { canaries, islands, jobs, users } from '../db/schema';
import { claimOnce, completeJob, createBroker, recordHeartbeat, registerIsland, submitJob } from '../jobs';
import { purchase } from '../ledger';
import { CANARY_DOMAINS, canaryPrompt } from './canary-prompts';

describe('canary prompts', () => {
	it('are of each built-in model’s own domain', () => {
		for (let i = 0; i < 50; i++) {
			const shapes = canaryPrompt(demoManifest);
			expect(CANARY_DOMAINS.demo.shapes.some((s) => shapes.includes(` ${s}`)), shapes).toBe(true);
			const things = canaryPrompt(objectsManifest);
			expect(CANARY_DOMAINS.objects.things.some((t) => things.includes(` ${t}`)), things).toBe(true);
			expect(CANARY_DOMAINS.demo.shapes.some((s) => things.split(' ').includes(s)), things).toBe(false);
			expect(things).toMatch(/^an? .+ on a [a-z]+ background$/);
		}
	});

	it('come from the manifest’s examples for a model without a generator, else general subjects', () => {
		const examples = ['a lighthouse at dusk', 'a bowl of ramen'];
		for (let i = 0; i < 20; i++) expect(examples).toContain(canaryPrompt({ id: 'other', examples }));
		expect(canaryPrompt({ id: 'other' })).toMatch(/^an? /);
	});
});

describe.each(drivers)('canaries per model on %s', (driver) => {
	let t: TestDatabase;
	let broker: Awaited<ReturnType<typeof createBroker>>;
	beforeAll(async () => {
		vi.stubEnv('TRUST_PROBATION_CANARIES', '3');
		vi.stubEnv('TRUST_CANARY_POOL', '2');
		vi.stubEnv('TRUST_SPOT_CHECK_RATE', '0');
		vi.stubEnv('TRUST_NEW_ISLAND_SPOT_CHECK_RATE', '0');
		t = await openTestDatabase(driver, 10);
		broker = await createBroker(t);
	});
	afterAll(async () => {
		// Every statement trust made named has a generic plan fit for a grown database (generic-plans.test.ts).
		expect((await genericPlanProblems(t.db)).problems).toEqual([]);
		vi.unstubAllEnvs();
		await broker.close();
		await t.dispose();
	});

	async function island(models: string[], { vouched = false, trusted = vouched }: { vouched?: boolean; trusted?: boolean } = {}) {
		const row = (await createUser(t.db, `${crypto.randomUUID()}@example.com`, 'x'))!;
		await t.db.update(users).set({ kycStatus: 'verified' }).where(eq(users.id, row.id));
		const { island } = await registerIsland(t.db, row.id, { name: 'i', models, maxPixels: 512 * 512 });
		await recordHeartbeat(t.db, island.id, { backend: 'node', models, maxPixels: 512 * 512 });
		if (trusted) await t.db.update(islands).set({ vouched, trust: 'trusted' }).where(eq(islands.id, island.id));
		return { id: island.id, userId: row.id, ownerId: row.id, models, maxPixels: 512 * 512, probation: !trusted, vouched };
	}
	type Isl = Awaited<ReturnType<typeof island>>;
	async function answer(isl: Isl) {
		const { claim } = await claimOnce(broker, isl);
		if (!claim) return null;
		await completeJob(broker, isl, claim.job.id, claim.lease.token, drawFor(claim.job.params));
		return claim.job;
	}

	it('tests an objects Island on probation with objects canaries only, referenced by a vouched objects Island', async () => {
		const newcomer = await island(['objects']);
		// Its first claim finds no answered canary: the objects pool is made, nothing of the demo's.
		expect((await claimOnce(broker, newcomer)).claim).toBeNull();
		const pool = await t.db.select().from(canaries);
		expect(pool.map((c) => c.model)).toEqual(['objects', 'objects']);
		for (const c of pool) expect(CANARY_DOMAINS.objects.things.some((thing) => c.params.prompt.includes(` ${thing}`))).toBe(true);

		// A vouched Island without the objects model never gets their reference runs.
		const demoOnly = await island(['demo'], { vouched: true });
		expect((await claimOnce(broker, demoOnly)).claim).toBeNull();
		const reference = await island(['objects'], { vouched: true });
		for (let i = 0; i < 2; i++) expect((await answer(reference))?.params.model).toBe('objects');

		// Now the newcomer passes its canaries: objects runs, compared with objects references.
		for (let i = 0; i < 2; i++) {
			const job = await answer(newcomer);
			expect(job?.params.model).toBe('objects');
		}
		const [row] = await t.db.select().from(islands).where(eq(islands.id, newcomer.id));
		expect(row.canariesPassed).toBe(2);
		const runs = await t.db.select().from(jobs).where(and(eq(jobs.islandId, newcomer.id), eq(jobs.kind, 'canary')));
		for (const run of runs) {
			const [canary] = await t.db.select().from(canaries).where(eq(canaries.id, run.canaryId!));
			expect([run.model, canary.model]).toEqual(['objects', 'objects']);
		}
	});

	it('gives a demo Island on probation a demo pool of its own, never an objects canary', async () => {
		const newcomer = await island(['demo']);
		expect((await claimOnce(broker, newcomer)).claim).toBeNull();
		const demoPool = await t.db.select().from(canaries).where(eq(canaries.model, 'demo'));
		expect(demoPool).toHaveLength(2);
		// The objects canaries are answered already, yet this Island is not offered one.
		expect((await claimOnce(broker, newcomer)).claim).toBeNull();
		const reference = await island(['demo'], { vouched: true });
		for (let i = 0; i < 2; i++) expect((await answer(reference))?.params.model).toBe('demo');
		expect((await answer(newcomer))?.params.model).toBe('demo');
	});

	it('spot-checks an objects job on another owner’s objects Island only, against that job’s picture', async () => {
		vi.stubEnv('TRUST_NEW_ISLAND_SPOT_CHECK_RATE', '1');
		const row = (await createUser(t.db, `${crypto.randomUUID()}@example.com`, 'x'))!;
		await t.db.update(users).set({ kycStatus: 'verified' }).where(eq(users.id, row.id));
		await t.db.transaction((tx) => purchase(tx, row.id, 100, 'test'));
		const requester = { id: row.id, email: row.email, kycStatus: 'verified' as const, isAdmin: false };
		const job = await submitJob(broker, requester, { prompt: 'a cat', model: 'objects', width: 256, height: 256, steps: 4 });
		const first = await island(['objects'], { trusted: true });
		expect((await answer(first))?.id).toBe(job.id);
		vi.stubEnv('TRUST_NEW_ISLAND_SPOT_CHECK_RATE', '0');
		const [check] = await t.db.select().from(jobs).where(and(eq(jobs.subjectJobId, job.id), eq(jobs.kind, 'check')));
		expect(check).toMatchObject({ model: 'objects', status: 'queued' });
		// A trusted Island of another owner without the objects model can't take the check.
		expect((await claimOnce(broker, await island(['demo'], { trusted: true }))).claim).toBeNull();
		expect((await answer(await island(['objects'], { trusted: true })))?.id).toBe(check.id);
		const [subject] = await t.db.select().from(jobs).where(eq(jobs.id, job.id));
		expect(subject.verification).toBe('confirmed');
	});
});
