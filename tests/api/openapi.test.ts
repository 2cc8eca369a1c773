import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ApiClient } from '../../harness/client';
import { BROKER_ENV, demoParams, ledgerAdmin } from '../../harness/broker';
import { startServer, type TestServer } from '../../harness/server';
import { makePng, TestIsland } from '../../harness/test-island';
import { drivers } from '../helpers/db';
import { apiRouteFiles, ResponseChecker } from '../helpers/openapi';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

describe.each(drivers)('the API document on %s', (driver) => {
	let server: TestServer;
	let doc: any;
	let checker: ResponseChecker;
	beforeAll(async () => {
		server = await startServer(driver, { env: BROKER_ENV });
		const res = await fetch(`${server.url}/api/openapi.json`);
		expect(res.status).toBe(200);
		doc = await res.json();
		checker = new ResponseChecker(doc);
	});
	afterAll(() => server.dispose());

	it('is OpenAPI 3.1 that a validator accepts', async () => {
		const result = await new Validator().validate(doc);
		expect(result.errors ?? []).toEqual([]);
		expect(result.valid).toBe(true);
		expect(doc.openapi).toBe('3.1.0');
	});

	it('covers every route file under src/routes/api (found on disk), and lists none that does not exist', () => {
		const files = apiRouteFiles();
		expect(files.length).toBeGreaterThan(25);
		const missing = files.flatMap((f) => f.methods.filter((m) => !doc.paths[f.path]?.[m.toLowerCase()]).map((m) => `${m} ${f.path} (${f.file})`));
		expect(missing).toEqual([]);
		const served = new Set(files.flatMap((f) => f.methods.map((m) => `${m} ${f.path}`)));
		const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) =>
			Object.keys(ops).filter((k) => HTTP_METHODS.includes(k)).map((m) => `${m.toUpperCase()} ${path}`)
		);
		expect(documented.filter((d) => !served.has(d))).toEqual([]);
		// Every operation says who may call it.
		for (const ops of Object.values(doc.paths as Record<string, Record<string, any>>)) {
			for (const [method, op] of Object.entries(ops)) if (HTTP_METHODS.includes(method)) expect(op.security, `${method} ${op.summary}`).toBeDefined();
		}
	});

	it('its checker refuses an answer the document does not describe', async () => {
		const answer = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
		await expect(checker.check('GET', '/api/health', answer({ ok: 'yes', database: 'pglite' }))).rejects.toThrow(/does not match/);
		await expect(checker.check('GET', '/api/health', answer({ ok: true, database: 'pglite', extra: 1 }))).rejects.toThrow(/does not match/);
		await expect(checker.check('GET', '/api/health', answer({ ok: true }, 418))).rejects.toThrow(/does not list/);
		await expect(checker.check('GET', '/api/nowhere', answer({}))).rejects.toThrow(/not in the document/);
		await expect(checker.check('GET', '/api/health', answer({ ok: true, database: 'pglite' }))).resolves.toEqual({ ok: true, database: 'pglite' });
	});

	it('documents each model’s description and example prompts, how jobs follow an Island’s models, and the unknown-model refusal', async () => {
		const model = doc.components.schemas.Model;
		expect(Object.keys(model.properties)).toEqual(expect.arrayContaining(['description', 'examples', 'variations']));
		expect(model.properties.examples.description).toMatch(/at most 8/);
		expect(doc.paths['/api/models'].get.description).toMatch(/demo.*objects/s);
		expect(JSON.stringify(doc.paths['/api/islands/heartbeat'].post.requestBody)).toMatch(/only jobs of these models/);
		const models = await checker.check('GET', '/api/models', await fetch(`${server.url}/api/models`));
		expect(models.models.map((m: { id: string }) => m.id)).toEqual(['demo', 'objects']);
		const requester = new ApiClient(server.url);
		await requester.signUp();
		await requester.json('POST', '/api/kyc/start', { json: { legalName: 'Test Person', dateOfBirth: '1990-01-01', country: 'FR' } });
		const refused = await checker.check('POST', '/api/jobs', await requester.request('POST', '/api/jobs', { json: { params: demoParams({ model: 'nope' }) } }));
		expect(refused.error).toMatchObject({ code: 'invalid_params', issues: [{ path: ['model'] }] });
	});

	it('real answers validate against it: a requester working with an API key, an Island, refusals', async () => {
		const check = (method: string, path: string, res: Response) => checker.check(method, path, res);
		const url = server.url;
		await check('GET', '/api/health', await fetch(`${url}/api/health`));
		await check('GET', '/api/models', await fetch(`${url}/api/models`));
		await check('GET', '/api/openapi.json', await fetch(`${url}/api/openapi.json`));
		await check('GET', '/api/me', await fetch(`${url}/api/me`)); // 401

		// A person signs up, verifies and makes a key holding every scope.
		const person = new ApiClient(url);
		const email = `oa-${randomUUID()}@example.com`;
		await check('POST', '/api/auth/signup', await person.request('POST', '/api/auth/signup', { json: { email, password: 'correct horse battery' } }));
		await check('POST', '/api/auth/login', await person.request('POST', '/api/auth/login', { json: { email, password: 'wrong password!' } }));
		await check('POST', '/api/auth/login', await person.request('POST', '/api/auth/login', { json: { email, password: 'correct horse battery' } }));
		await check('POST', '/api/kyc/start', await person.request('POST', '/api/kyc/start', { json: { legalName: 'Test Person', dateOfBirth: '1990-01-01', country: 'FR' } }));
		const scopes = ['jobs:read', 'jobs:write', 'credits:buy', 'islands:manage'];
		const created = await check('POST', '/api/keys', await person.request('POST', '/api/keys', { json: { name: 'everything', scopes } }));
		await check('GET', '/api/keys', await person.request('GET', '/api/keys'));
		const narrow = await check('POST', '/api/keys', await person.request('POST', '/api/keys', { json: { name: 'read only', scopes: ['jobs:read'] } }));

		// Every requester route works with the key alone.
		const bot = new ApiClient(url);
		bot.bearer = created.secret;
		await check('GET', '/api/me', await bot.request('GET', '/api/me'));
		await check('POST', '/api/credits/purchase', await bot.request('POST', '/api/credits/purchase', { json: { pack: 'starter' }, headers: { 'idempotency-key': randomUUID() } }));
		await check('POST', '/api/jobs/quote', await bot.request('POST', '/api/jobs/quote', { json: { params: demoParams() } }));
		await check('POST', '/api/jobs', await bot.request('POST', '/api/jobs', { json: { params: demoParams({ steps: 0 }) } })); // 422
		const first = (await check('POST', '/api/jobs', await bot.request('POST', '/api/jobs', { json: { params: demoParams() } }))).job;
		await check('GET', '/api/jobs', await bot.request('GET', '/api/jobs?limit=5'));
		await check('GET', '/api/jobs/{id}', await bot.request('GET', `/api/jobs/${first.id}`));
		await check('GET', '/api/jobs/{id}', await bot.request('GET', `/api/jobs/${randomUUID()}`)); // 404
		await check('POST', '/api/jobs/{id}/share', await bot.request('POST', `/api/jobs/${first.id}/share`)); // 409: no picture yet
		await check('DELETE', '/api/jobs/{id}/image', await bot.request('DELETE', `/api/jobs/${first.id}/image`)); // 409

		// The key registers an Island, which runs the job.
		const registered = await check('POST', '/api/islands', await bot.request('POST', '/api/islands', { json: { name: 'documented' } }));
		await check('GET', '/api/islands', await bot.request('GET', '/api/islands'));
		const spare = await check('POST', '/api/islands', await bot.request('POST', '/api/islands', { json: { name: 'spare' } }));
		await check('DELETE', '/api/islands/{id}', await bot.request('DELETE', `/api/islands/${spare.island.id}`));
		await check('DELETE', '/api/islands/{id}', await bot.request('DELETE', `/api/islands/${spare.island.id}`)); // 404
		const island = new TestIsland(url, registered.token, registered.island.id);
		// The Island's calls as raw answers (TestIsland's helpers read the body themselves).
		const islandCall = (path: string, json: unknown) =>
			fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${island.token}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
		await check('POST', '/api/islands/heartbeat', await islandCall('/api/islands/heartbeat', { backend: 'node', models: ['demo'], maxPixels: 512 * 512 }));
		const claim = await check('POST', '/api/islands/claim', await islandCall('/api/islands/claim', {}));
		expect(claim.job.id).toBe(first.id);
		await check('POST', '/api/islands/jobs/{id}/progress', await islandCall(`/api/islands/jobs/${first.id}/progress`, { lease: claim.lease.token, step: 1, total: claim.job.params.steps }));
		const running = await check('GET', '/api/jobs/{id}', await bot.request('GET', `/api/jobs/${first.id}`));
		expect(running.job.progress).not.toBeNull();
		await check('POST', '/api/islands/jobs/{id}/result', await fetch(`${url}/api/islands/jobs/${first.id}/result`, {
			method: 'POST',
			headers: { authorization: `Bearer ${island.token}`, 'content-type': 'image/png', 'x-lease': claim.lease.token },
			body: makePng(claim.job.params.width, claim.job.params.height).slice().buffer
		}));
		const done = (await check('GET', '/api/jobs/{id}', await bot.request('GET', `/api/jobs/${first.id}`))).job;
		expect(done.status).toBe('completed');
		await check('GET', '/api/jobs/{id}/events', await bot.request('GET', `/api/jobs/${first.id}/events`));
		const share = await check('POST', '/api/jobs/{id}/share', await bot.request('POST', `/api/jobs/${first.id}/share`));
		await check('GET', '/api/images/{id}.png', await bot.request('GET', done.imageUrl));
		await check('GET', '/api/images/{id}.png', await fetch(share.url));

		// A second job: the Island gives up on it, then the requester cancels it.
		const second = (await check('POST', '/api/jobs', await bot.request('POST', '/api/jobs', { json: { params: demoParams() } }))).job;
		const claim2 = await island.claim();
		await check('POST', '/api/islands/jobs/{id}/fail', await islandCall(`/api/islands/jobs/${second.id}/fail`, { lease: claim2!.lease.token, reason: 'out of memory' }));
		await check('POST', '/api/islands/jobs/{id}/progress', await islandCall(`/api/islands/jobs/${second.id}/progress`, { lease: claim2!.lease.token, step: 1, total: 2 })); // 409 late
		await check('DELETE', '/api/jobs/{id}', await bot.request('DELETE', `/api/jobs/${second.id}`));
		await check('DELETE', '/api/jobs/{id}', await bot.request('DELETE', `/api/jobs/${second.id}`)); // 409

		// A batch: its quote, its 201, the queue and the batch's list, one stream for all, the limit.
		const quoted = await check('POST', '/api/jobs/quote', await bot.request('POST', '/api/jobs/quote', { json: { params: demoParams(), count: 3 } }));
		expect(quoted.total).toBe(quoted.cost * 3);
		const submitted = await check('POST', '/api/jobs', await bot.request('POST', '/api/jobs', { json: { params: demoParams(), count: 3 }, headers: { 'idempotency-key': randomUUID() } }));
		expect(submitted.jobs.map((j: { batchIndex: number }) => j.batchIndex)).toEqual([0, 1, 2]);
		expect((await check('GET', '/api/jobs', await bot.request('GET', '/api/jobs?active=true'))).jobs).toHaveLength(3);
		expect((await check('GET', '/api/jobs', await bot.request('GET', `/api/jobs?batch=${submitted.batch.id}`))).jobs).toHaveLength(3);
		const refused = await check('POST', '/api/jobs', await bot.request('POST', '/api/jobs', { json: { params: demoParams(), count: 2 } })); // 429
		expect(refused.error.code).toBe('too_many_jobs');
		// A stream still going never ends: its status and type are checked, its body isn't read.
		const streaming = new AbortController();
		const live = await fetch(`${url}/api/jobs/events?ids=${submitted.jobs.map((j: { id: string }) => j.id).join(',')}`, {
			headers: { authorization: `Bearer ${created.secret}` },
			signal: streaming.signal
		});
		expect(Object.keys(checker.response('GET', '/api/jobs/events', live.status).content ?? {})).toContain(live.headers.get('content-type')?.split(';')[0]);
		streaming.abort();
		for (const job of submitted.jobs) await check('DELETE', '/api/jobs/{id}', await bot.request('DELETE', `/api/jobs/${job.id}`));
		await check('GET', '/api/jobs/events', await bot.request('GET', `/api/jobs/events?ids=${submitted.jobs.map((j: { id: string }) => j.id).join(',')}`)); // 204: all ended
		await check('GET', '/api/models/{id}/tokenizer', await bot.request('GET', '/api/models/demo/tokenizer')); // 308: the app ships it
		await check('GET', '/api/models/{id}/tokenizer', await bot.request('GET', '/api/models/nothing/tokenizer')); // 404

		// Refusals: a missing scope, a session-only route, another's job.
		const reader = new ApiClient(url);
		reader.bearer = narrow.secret;
		await check('POST', '/api/jobs', await reader.request('POST', '/api/jobs', { json: { params: demoParams() } })); // 403
		await check('POST', '/api/keys', await bot.request('POST', '/api/keys', { json: { name: 'more' } })); // 403
		await check('DELETE', '/api/me', await bot.request('DELETE', '/api/me', { json: { password: 'x', confirm: 'delete my account' } })); // 403
		const stranger = new ApiClient(url);
		await stranger.signUp();
		await check('DELETE', '/api/jobs/{id}/image', await stranger.request('DELETE', `/api/jobs/${first.id}/image`)); // 404

		await check('DELETE', '/api/jobs/{id}/image', await bot.request('DELETE', `/api/jobs/${first.id}/image`));
		await check('GET', '/api/images/{id}.png', await fetch(share.url)); // 404 now
		await check('DELETE', '/api/keys/{id}', await person.request('DELETE', `/api/keys/${narrow.key.id}`));
		const admin = await ledgerAdmin(url);
		const ledger = await check('GET', '/api/admin/ledger/check', await admin.request('GET', '/api/admin/ledger/check'));
		expect(ledger.problems).toEqual([]);
		await check('POST', '/api/auth/logout', await person.request('POST', '/api/auth/logout'));
	});
});

