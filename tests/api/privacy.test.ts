import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { balance, BROKER_ENV, demoParams, ledgerAdmin, requester } from '../../harness/broker';
import { startServer, type TestServer } from '../../harness/server';
import { TestIsland } from '../../harness/test-island';
import { drivers } from '../helpers/db';
import { SseReader } from '../helpers/sse';
import { until } from '../../harness/until';

const CONFIRM = 'delete my account';

describe.each(drivers)('deleting pictures and accounts on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	beforeAll(async () => {
		server = await startServer(driver, { env: BROKER_ENV });
		admin = await ledgerAdmin(server.url);
	});
	afterAll(() => server.dispose());

	async function ledgerProblems() {
		return (await admin.json('GET', '/api/admin/ledger/check')).body.problems;
	}

	/** A requester's job run to completion by an Island of `owner`. */
	async function completedJob(client: ApiClient, island: TestIsland) {
		const submitted = await client.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: `a secret ${randomUUID()}` }) } });
		expect(submitted.status).toBe(201);
		await island.runOne();
		const job = (await client.json('GET', `/api/jobs/${submitted.body.job.id}`)).body.job;
		expect(job.status).toBe('completed');
		return job;
	}

	it('deletes a picture for its owner only: gone from the history, its links and prompt, the job says so; no credits move', async () => {
		const owner = await requester(server.url);
		const island = await TestIsland.register(owner);
		const job = await completedJob(owner, island);
		const kept = await completedJob(owner, island);
		const shared = new URL(job.shareUrl, server.url).href;
		expect((await fetch(shared)).status).toBe(200);
		const before = await balance(owner);

		// Another user (session or key) can't, and learns nothing: 404 as for a missing job.
		const other = await requester(server.url);
		expect((await other.json('DELETE', `/api/jobs/${job.id}/image`)).body.error.code).toBe('not_found');
		const otherKey = (await other.json('POST', '/api/keys', { json: { name: 'k' } })).body.secret;
		const otherBot = new ApiClient(server.url);
		otherBot.bearer = otherKey;
		expect((await otherBot.json('DELETE', `/api/jobs/${job.id}/image`)).status).toBe(404);
		// The owner's key needs jobs:write.
		const reader = new ApiClient(server.url);
		reader.bearer = (await owner.json('POST', '/api/keys', { json: { name: 'r', scopes: ['jobs:read'] } })).body.secret;
		const refused = await reader.json('DELETE', `/api/jobs/${job.id}/image`);
		expect([refused.status, refused.body.error.code]).toEqual([403, 'insufficient_scope']);
		expect((await fetch(shared)).status).toBe(200);

		const deleted = await owner.json('DELETE', `/api/jobs/${job.id}/image`);
		expect(deleted.status).toBe(200);
		expect(deleted.body.job).toMatchObject({ id: job.id, status: 'completed', imageUrl: null, params: { prompt: '' } });
		expect(deleted.body.job.imageDeletedAt).toEqual(expect.any(String));

		expect((await fetch(shared)).status).toBe(404);
		expect((await owner.request('GET', job.imageUrl)).status).toBe(404);
		const history = (await owner.json('GET', '/api/jobs')).body.jobs.map((j: { id: string }) => j.id);
		expect(history).not.toContain(job.id);
		expect(history).toContain(kept.id);
		const view = (await owner.json('GET', `/api/jobs/${job.id}`)).body.job;
		expect(view).toMatchObject({ imageUrl: null, shareUrl: null, imageDeletedAt: deleted.body.job.imageDeletedAt });
		expect(JSON.stringify(view)).not.toContain('a secret');
		const again = await owner.json('DELETE', `/api/jobs/${job.id}/image`);
		expect([again.status, again.body.error.code]).toEqual([409, 'no_image']);
		expect((await owner.json('POST', `/api/jobs/${job.id}/share`)).status).toBe(409);
		// A job without a picture yet has nothing to delete.
		const queued = (await owner.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		expect((await owner.json('DELETE', `/api/jobs/${queued.id}/image`)).body.error.code).toBe('no_image');
		await owner.json('DELETE', `/api/jobs/${queued.id}`);

		expect(await balance(owner)).toEqual(before);
		// The other picture is untouched.
		expect((await owner.request('GET', kept.imageUrl)).status).toBe(200);
		expect(await ledgerProblems()).toEqual([]);
	});

	it('deletes an account only with its session, its password and the typed phrase', async () => {
		const person = await requester(server.url);
		const before = await balance(person);
		const bot = new ApiClient(server.url);
		bot.bearer = (await person.json('POST', '/api/keys', { json: { name: 'all', scopes: ['jobs:read', 'jobs:write', 'credits:buy', 'islands:manage'] } })).body.secret;
		const asKey = await bot.json('DELETE', '/api/me', { json: { password: 'correct horse battery', confirm: CONFIRM } });
		expect([asKey.status, asKey.body.error.code]).toEqual([403, 'session_required']);
		const wrong = await person.json('DELETE', '/api/me', { json: { password: 'not my password', confirm: CONFIRM } });
		expect([wrong.status, wrong.body.error.code]).toEqual([403, 'wrong_password']);
		const unconfirmed = await person.json('DELETE', '/api/me', { json: { password: 'correct horse battery', confirm: 'yes' } });
		expect(unconfirmed.status).toBe(422);
		expect(unconfirmed.body.error.message).toContain(CONFIRM);
		expect((await person.json('DELETE', '/api/me', { json: { password: 'correct horse battery' } })).status).toBe(422);
		expect((await person.json('DELETE', '/api/me')).body.error.code).toBe('invalid_json');
		expect(await balance(person)).toEqual(before);
		expect((await bot.json('GET', '/api/me')).status).toBe(200);
	});

	it('deletes an account: work cancelled and refunded, Islands retired and their lease handed back, nothing of the person left; others unaffected', async () => {
		const other = await requester(server.url);
		const otherIsland = await TestIsland.register(other);
		const person = new ApiClient(server.url);
		const { email, password, user } = await person.signUp();
		await person.json('POST', '/api/kyc/start', { json: { legalName: 'Test Person', dateOfBirth: '1990-01-01', country: 'FR' } });
		await person.buy('creator');
		const key = (await person.json('POST', '/api/keys', { json: { name: 'script' } })).body.secret;
		const island = await TestIsland.register(person);

		// The other user's picture, drawn by their own Island, and a job the person's Island holds.
		const othersPicture = await completedJob(other, otherIsland);
		const handedBack = (await other.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		const lease = await island.claim();
		expect(lease?.job.id).toBe(handedBack.id);
		// The person's own picture (shared), and a job of theirs still queued.
		const own = (await person.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		await island.call('POST', `/api/islands/jobs/${handedBack.id}/progress`, { lease: lease!.lease.token, step: 1, total: 2 });
		await otherIsland.runOne();
		const picture = (await person.json('GET', `/api/jobs/${own.id}`)).body.job;
		expect(picture.status).toBe('completed');
		const shared = new URL(picture.shareUrl, server.url).href;
		const queued = (await person.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		const held = (await balance(person)).held;
		expect(held).toBe(queued.cost);
		const events = new SseReader(await person.request('GET', `/api/jobs/${queued.id}/events`));
		await events.until('status');

		const session = person.cookie;
		const gone = await person.request('DELETE', '/api/me', { json: { password, confirm: CONFIRM } });
		expect(gone.status).toBe(204);
		expect(gone.headers.getSetCookie().join()).toMatch(/session=;/);

		// Its queued job ended cancelled, its hold refunded (the stream says so before it ends).
		const failed = (await events.until('failed')).at(-1)!;
		expect(failed.data).toMatchObject({ status: 'cancelled', refunded: queued.cost });
		// Sessions, keys, the Island's token, the password, the share link: all dead at once.
		const replay = new ApiClient(server.url);
		replay.cookie = session;
		expect((await replay.request('GET', '/api/me')).status).toBe(401);
		const bot = new ApiClient(server.url);
		bot.bearer = key;
		expect((await bot.request('GET', '/api/me')).status).toBe(401);
		expect((await island.call('POST', '/api/islands/heartbeat', { backend: 'node', models: ['demo'] })).status).toBe(401);
		expect((await new ApiClient(server.url).json('POST', '/api/auth/login', { json: { email, password } })).body.error.code).toBe('invalid_credentials');
		expect((await fetch(shared)).status).toBe(404);

		// The other user's job went back to the queue and is finished by their own Island.
		const requeued = (await other.json('GET', `/api/jobs/${handedBack.id}`)).body.job;
		expect(requeued.status).toBe('queued');
		await otherIsland.runOne();
		expect((await other.json('GET', `/api/jobs/${handedBack.id}`)).body.job.status).toBe('completed');
		expect((await other.request('GET', othersPicture.imageUrl)).status).toBe(200);
		expect((await other.json('GET', '/api/me')).status).toBe(200);

		// The ledger balances, with the person's accounts closed at 0.
		expect(await ledgerProblems()).toEqual([]);
		// The email is free again: a new, empty account.
		const again = new ApiClient(server.url);
		const fresh = await again.json('POST', '/api/auth/signup', { json: { email, password: 'another long password' } });
		expect(fresh.status).toBe(201);
		expect(fresh.body.balance).toEqual({ available: 0, held: 0 });
		expect(fresh.body.user.id).not.toBe(user.id);
	});
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('a deleted account on two instances sharing PostgreSQL', () => {
	let a: TestServer;
	let b: TestServer;
	beforeAll(async () => {
		a = await startServer('postgres', { env: BROKER_ENV });
		// B remembers identities for 10 minutes: only the deletion's event can make it forget.
		b = await startServer('postgres', { env: { ...BROKER_ENV, IDENTITY_CACHE_MS: '600000' }, databaseEnv: a.databaseEnv });
	});
	afterAll(async () => {
		await b.stop();
		await a.dispose();
	});

	it('is refused on the other instance at once, although it remembered the session and the key', async () => {
		const person = new ApiClient(a.url);
		const { password } = await person.signUp();
		const key = (await person.json('POST', '/api/keys', { json: { name: 'k' } })).body.secret;
		const onB = new ApiClient(b.url);
		onB.cookie = person.cookie;
		const keyOnB = new ApiClient(b.url);
		keyOnB.bearer = key;
		expect((await onB.request('GET', '/api/me')).status).toBe(200);
		expect((await keyOnB.request('GET', '/api/me')).status).toBe(200);

		expect((await person.request('DELETE', '/api/me', { json: { password, confirm: CONFIRM } })).status).toBe(204);
		await until('B refuses the session', async () => (await onB.request('GET', '/api/me')).status === 401, 30_000);
		await until('B refuses the key', async () => (await keyOnB.request('GET', '/api/me')).status === 401, 30_000);
	});
});
