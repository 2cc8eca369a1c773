// Two built-in models through the real server: a job goes only to an Island that advertises
// its model (an objects job is never claimed by a demo-only Island), and a request for a model
// the broker doesn't offer is a clear 422 that moves no credits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { balance, BROKER_ENV, demoParams, ledgerAdmin, objectsManifest, objectsParams, requester, setKyc } from '../../harness/broker';
import { TestIsland } from '../../harness/test-island';

/** A claim that finds nothing within `ms` (the long-poll still sleeping) says so instead of throwing. */
const claimWithin = (island: TestIsland, ms = 1000) => island.claim({ signal: AbortSignal.timeout(ms) }).catch(() => 'still waiting' as const);

describe.each(drivers)('models on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	let owner: ApiClient;
	beforeAll(async () => {
		server = await startServer(driver, { env: BROKER_ENV });
		admin = await ledgerAdmin(server.url);
		owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
	});
	afterAll(async () => {
		expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
		await server.dispose();
	});

	it('lists both built-in models, the demo first, each with its examples; the objects model makes no variations', async () => {
		const r = await new ApiClient(server.url).json('GET', '/api/models');
		expect(r.status).toBe(200);
		const models = r.body.models as { id: string; variations: boolean; examples: string[]; description: string }[];
		expect(models.map((m) => m.id)).toEqual(['demo', 'objects']);
		expect(models[0]).toMatchObject({ variations: true });
		expect(models[1]).toMatchObject({ variations: false });
		expect(models[1].examples).toContain('a cat');
		expect(models[1]).toMatchObject({ name: objectsManifest.name, description: objectsManifest.description });
	});

	it('never gives an objects job to an Island that advertises only demo; an objects Island claims it', async () => {
		const client = await requester(server.url);
		const job = (await client.json('POST', '/api/jobs', { json: { params: objectsParams() } })).body.job;
		expect(job.params.model).toBe('objects');
		const demoOnly = await TestIsland.register(owner, { models: ['demo'] });
		expect(await claimWithin(demoOnly)).toBe('still waiting');
		// Restating its models with the claim changes nothing.
		expect(await demoOnly.claim({ signal: AbortSignal.timeout(1000), body: { models: ['demo'] } }).catch(() => 'still waiting')).toBe('still waiting');
		const objectsIsland = await TestIsland.register(owner, { models: ['objects'] });
		const claim = await objectsIsland.claim();
		expect(claim!.job.id).toBe(job.id);
		expect(claim!.job.params.model).toBe('objects');
		await objectsIsland.complete(claim!);
		expect((await client.json('GET', `/api/jobs/${job.id}`)).body.job.status).toBe('completed');
	});

	it('gives each Island only the jobs of its models, and one with both either', async () => {
		const client = await requester(server.url);
		const demoJob = (await client.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		const objectsIsland = await TestIsland.register(owner, { models: ['objects'] });
		expect(await claimWithin(objectsIsland)).toBe('still waiting');
		const both = await TestIsland.register(owner, { models: ['demo', 'objects'] });
		const first = await both.claim();
		expect(first!.job.id).toBe(demoJob.id);
		await both.complete(first!);
		const objectsJob = (await client.json('POST', '/api/jobs', { json: { params: objectsParams({ prompt: 'a cat' }) } })).body.job;
		const second = await both.claim();
		expect([second!.job.id, second!.job.params.model]).toEqual([objectsJob.id, 'objects']);
		await both.complete(second!);
	});

	it('refuses a model it does not offer with a 422 naming the models, and holds nothing', async () => {
		const client = await requester(server.url);
		const before = await balance(client);
		for (const path of ['/api/jobs/quote', '/api/jobs']) {
			const r = await client.json('POST', path, { json: { params: demoParams({ model: 'unicorns' }) } });
			expect(r.status).toBe(422);
			expect(r.body.error.code).toBe('invalid_params');
			expect(r.body.error.issues).toEqual([expect.objectContaining({ path: ['model'], message: 'Unknown model; choose one of: demo, objects.' })]);
		}
		expect(await balance(client)).toEqual(before);
		expect((await client.json('GET', '/api/jobs?active=true')).body.jobs).toEqual([]);
	});

	it('refuses a variation of the objects model (no VAE encoder) with a 422, and holds nothing', async () => {
		const client = await requester(server.url);
		const before = await balance(client);
		const r = await client.json('POST', '/api/jobs', { json: { params: objectsParams({ variation: { imageId: 'img_x', strength: 0.5 } }) } });
		expect(r.status).toBe(422);
		expect(r.body.error.issues.map((i: { path: string[] }) => i.path.join('.'))).toEqual(['variation']);
		expect(await balance(client)).toEqual(before);
	});
});
