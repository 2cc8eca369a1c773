// Quote, submit, the whole Island round trip with settlement, images, history and IDOR.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { decode } from 'fast-png';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { balance, BROKER_ENV, demoManifest, demoParams, ledgerAdmin, requester, setKyc } from '../../harness/broker';
import { TestIsland } from '../../harness/test-island';

describe.each(drivers)('jobs on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	beforeAll(async () => {
		// SD-Turbo is offered when configured; the tiny fixture stands in for its weights.
		const sdturbo = new URL('../fixtures/tiny/sdturbo/', import.meta.url).href;
		server = await startServer(driver, { env: { ...BROKER_ENV, SDTURBO_BASE_URL: sdturbo } });
		admin = await ledgerAdmin(server.url);
	});
	afterAll(async () => {
		expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
		await server.dispose();
	});

	it('lists the models with what a form needs', async () => {
		const r = await new ApiClient(server.url).json('GET', '/api/models');
		expect(r.status).toBe(200);
		const demo = r.body.models.find((m: { id: string }) => m.id === 'demo');
		expect(demo).toMatchObject({ sizes: demoManifest.sizes, steps: demoManifest.steps, costWeight: 1 });
		expect(Object.keys(demo).sort()).toEqual(['costWeight', 'description', 'examples', 'guidance', 'id', 'name', 'sizes', 'steps', 'variations']);
		expect(demo.variations).toBe(true);
	});

	it('offers SD-Turbo when configured: priced higher, and only for Islands that have it', async () => {
		const models = (await new ApiClient(server.url).json('GET', '/api/models')).body.models;
		const turbo = models.find((m: { id: string }) => m.id === 'sd-turbo');
		expect(turbo).toMatchObject({ sizes: [[512, 512]], costWeight: 2 });
		const client = await requester(server.url);
		const params = { prompt: 'a lighthouse at dusk', model: 'sd-turbo', width: 512, height: 512, steps: 1 };
		const q = (await client.json('POST', '/api/jobs/quote', { json: { params } })).body;
		expect(q.tier).toBe('standard');
		expect(q.cost).toBeGreaterThan(10);
		const job = (await client.json('POST', '/api/jobs', { json: { params } })).body.job;
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		const demoOnly = await TestIsland.register(owner, { models: ['demo'] });
		expect(await demoOnly.claim({ signal: AbortSignal.timeout(1000) }).catch(() => 'still waiting')).toBe('still waiting');
		const turboIsland = await TestIsland.register(owner, { models: ['sd-turbo'] });
		expect((await turboIsland.claim())!.job.id).toBe(job.id);
		await client.json('DELETE', `/api/jobs/${job.id}`);
	});

	it('serves each model’s tokenizer for the prompt-length warning: SD-Turbo’s through the server, the demo’s as a static file', async () => {
		const anyone = new ApiClient(server.url);
		const turbo = await anyone.request('GET', '/api/models/sd-turbo/tokenizer');
		expect([turbo.status, turbo.headers.get('content-type')]).toEqual([200, 'application/json']);
		const fixture = readFileSync(new URL('../fixtures/tiny/sdturbo/tokenizer.json', import.meta.url));
		expect(Buffer.from(await turbo.arrayBuffer()).equals(fixture)).toBe(true);
		const demo = await anyone.request('GET', '/api/models/demo/tokenizer');
		expect([demo.status, demo.headers.get('location')]).toEqual([308, '/models/demo/tokenizer.json']);
		expect((await anyone.json('GET', '/api/models/nope/tokenizer')).status).toBe(404);
	});

	it('quotes without holding anything, and refuses bad params with 422', async () => {
		const client = await requester(server.url);
		const q = await client.json('POST', '/api/jobs/quote', { json: { params: demoParams() } });
		expect(q.body).toEqual({ cost: 10, tier: 'standard', count: 1, total: 10 });
		const [w, h] = demoManifest.sizes.reduce((a, b) => (b[0] * b[1] > a[0] * a[1] ? b : a));
		const top = await client.json('POST', '/api/jobs/quote', { json: { params: demoParams({ width: w, height: h, steps: demoManifest.steps.high[1] }) } });
		expect(top.body).toEqual({ cost: 50, tier: 'high', count: 1, total: 50 });
		const bad = await client.json('POST', '/api/jobs/quote', { json: { params: demoParams({ steps: 0, colour: 'red' }) } });
		expect(bad.status).toBe(422);
		expect(bad.body.error.code).toBe('invalid_params');
		expect(bad.body.error.issues.length).toBeGreaterThan(0);
		expect(await balance(client)).toEqual({ available: 100, held: 0 });
		expect((await new ApiClient(server.url).json('POST', '/api/jobs/quote', { json: { params: demoParams() } })).status).toBe(401);
	});

	it('refuses a submit with 401/403/422/402 and holds nothing on any rejection', async () => {
		expect((await new ApiClient(server.url).json('POST', '/api/jobs', { json: { params: demoParams() } })).status).toBe(401);

		const unverified = new ApiClient(server.url);
		await unverified.signUp();
		await unverified.buy();
		const kyc = await unverified.json('POST', '/api/jobs', { json: { params: demoParams() } });
		expect(kyc.status).toBe(403);
		expect(kyc.body.error.code).toBe('kyc_required');
		expect(await balance(unverified)).toEqual({ available: 100, held: 0 });

		const client = await requester(server.url);
		for (const body of [{ params: demoParams({ extra: true }) }, { params: demoParams({ width: 1 }) }, { params: demoParams(), more: 1 }, {}]) {
			const r = await client.json('POST', '/api/jobs', { json: body });
			expect(r.status, JSON.stringify(body)).toBe(422);
		}
		expect((await client.json('POST', '/api/jobs', { body: '{"params":', headers: { 'content-type': 'application/json' } })).status).toBe(400);
		expect(await balance(client)).toEqual({ available: 100, held: 0 });

		const broke = await requester(server.url, null);
		const poor = await broke.json('POST', '/api/jobs', { json: { params: demoParams() } });
		expect(poor.status).toBe(402);
		expect(poor.body.error.code).toBe('insufficient_credits');
		expect(await balance(broke)).toEqual({ available: 0, held: 0 });
		expect((await broke.json('GET', '/api/jobs')).body.jobs).toEqual([]);
	});

	it('runs a job end to end: hold, claim with a lease, progress, PNG, settlement 80/20', async () => {
		const client = await requester(server.url);
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		const island = await TestIsland.register(owner);

		const params = demoParams({ steps: demoManifest.steps.high[0] });
		const submitted = await client.json('POST', '/api/jobs', { json: { params } });
		expect(submitted.status).toBe(201);
		const job = submitted.body.job;
		expect(job).toMatchObject({ status: 'queued', tier: 'high', cost: 25, attempts: 0, imageUrl: null });
		// Seed and guidance are recorded, so the image can be reproduced.
		expect(job.params.seed).toBeTypeOf('number');
		expect(job.params.guidance).toBeTypeOf('number');
		expect(await balance(client)).toEqual({ available: 75, held: 25 });

		const claim = (await island.claim())!;
		expect(claim.job).toMatchObject({ id: job.id, params: job.params, attempt: 1 });
		expect(claim.lease.token).toMatch(/^lease_1_/);
		expect(new Date(claim.lease.expiresAt).getTime()).toBeGreaterThan(Date.now());

		const p = await island.progress(job.id, claim.lease.token, 3, params.steps);
		expect(p.status).toBe(200);
		expect((await client.json('GET', `/api/jobs/${job.id}`)).body.job).toMatchObject({ status: 'running', progress: { step: 3, total: params.steps } });

		const { makePng } = await import('../../harness/test-island');
		const done = await island.result(job.id, claim.lease.token, makePng(params.width, params.height));
		expect(done.status).toBe(200);
		const after = (await client.json('GET', `/api/jobs/${job.id}`)).body.job;
		expect(after).toMatchObject({ status: 'completed', imageUrl: `/api/images/${done.body.imageId}.png` });
		expect(await balance(client)).toEqual({ available: 75, held: 0 });
		// floor(25 × 0.8), in the Island's escrow until its window passes (docs/trust.md).
		expect(await balance(owner)).toEqual({ available: 0, held: 0 });
		expect((await owner.json('GET', '/api/islands')).body.islands[0]).toMatchObject({ id: island.id, escrowed: 20, trust: 'trusted' });

		const img = await client.request('GET', after.imageUrl);
		expect(img.headers.get('content-type')).toBe('image/png');
		const decoded = decode(new Uint8Array(await img.arrayBuffer()));
		expect([decoded.width, decoded.height]).toEqual([params.width, params.height]);

		// A replayed result is a 409 and settles nothing twice.
		const replay = await island.result(job.id, claim.lease.token, makePng(params.width, params.height));
		expect(replay.status).toBe(409);
		expect(await balance(owner)).toEqual({ available: 0, held: 0 });
	});

	it('keeps other users out of jobs and images (404), and shares images by signed, expiring URL', async () => {
		const alice = await requester(server.url);
		const mallory = await requester(server.url);
		const ownerClient = new ApiClient(server.url);
		await ownerClient.signUp();
		await setKyc(ownerClient, 'verified');
		const island = await TestIsland.register(ownerClient);
		const job = (await alice.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		await island.runOne();
		const mine = (await alice.json('GET', `/api/jobs/${job.id}`)).body.job;

		expect((await mallory.json('GET', `/api/jobs/${job.id}`)).status).toBe(404);
		expect((await mallory.json('DELETE', `/api/jobs/${job.id}`)).status).toBe(404);
		expect((await mallory.request('GET', `/api/jobs/${job.id}/events`)).status).toBe(404);
		expect((await mallory.request('GET', mine.imageUrl)).status).toBe(404);
		expect((await new ApiClient(server.url).request('GET', mine.imageUrl)).status).toBe(401);
		expect((await mallory.json('GET', '/api/jobs')).body.jobs).toEqual([]);

		const share = mine.shareUrl as string;
		expect(share).toMatch(/\?exp=\d+&sig=/);
		expect((await new ApiClient(server.url).request('GET', share)).status).toBe(200);
		expect((await new ApiClient(server.url).request('GET', share.replace(/sig=(.)/, (_, c) => `sig=${c === 'A' ? 'B' : 'A'}`))).status).toBe(404);
		const expired = share.replace(/exp=\d+/, 'exp=1000');
		expect((await new ApiClient(server.url).request('GET', expired)).status).toBe(404);
	});

	it('lists the caller’s history newest first, limited', async () => {
		const client = await requester(server.url, 'creator');
		const ids: string[] = [];
		for (let i = 0; i < 3; i++) ids.push((await client.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: `job ${i}` }) } })).body.job.id);
		const list = await client.json('GET', '/api/jobs?limit=2');
		expect(list.body.jobs.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
		expect((await client.json('GET', '/api/jobs?limit=0')).status).toBe(422);
		expect((await client.json('GET', '/api/jobs')).body.jobs).toHaveLength(3);
		for (const id of ids) expect((await client.json('DELETE', `/api/jobs/${id}`)).status).toBe(200);
	});

	it('keeps a rejected verification per user', async () => {
		const client = new ApiClient(server.url);
		await client.signUp();
		await setKyc(client, 'rejected');
		expect((await client.json('GET', '/api/me')).body.user.kycStatus).toBe('rejected');
	});
});
