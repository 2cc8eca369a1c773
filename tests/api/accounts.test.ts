import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, claimAdmin } from '../../harness/broker';

describe.each(drivers)('accounts, sessions and API keys on %s', (driver) => {
	let server: TestServer;
	beforeAll(async () => {
		server = await startServer(driver, { env: { ADMIN_CLAIM_TOKEN } });
	});
	afterAll(() => server.dispose());

	it('signs up with 0 credits and an httpOnly, SameSite=Lax session cookie', async () => {
		const client = new ApiClient(server.url);
		const res = await client.request('POST', '/api/auth/signup', { json: { email: 'New@Example.com', password: 'long enough pw' } });
		expect(res.status).toBe(201);
		const cookie = res.headers.getSetCookie().find((c) => c.startsWith('session='))!;
		expect(cookie).toMatch(/HttpOnly/i);
		expect(cookie).toMatch(/SameSite=Lax/i);
		expect(cookie).not.toMatch(/Secure/i); // plain http here; https adds Secure
		const me = await client.json('GET', '/api/me');
		expect(me.body).toMatchObject({ user: { email: 'New@Example.com', kycStatus: 'unverified' }, balance: { available: 0, held: 0 } });
	});

	it('refuses a second account with the same email in any case', async () => {
		const a = new ApiClient(server.url);
		await a.signUp('dupe@example.com');
		const r = await new ApiClient(server.url).json('POST', '/api/auth/signup', { json: { email: 'DUPE@example.com', password: 'another password' } });
		expect(r.status).toBe(409);
		expect(r.body.error.code).toBe('email_taken');
	});

	it('logs in, logs out, and the old cookie stops working', async () => {
		const client = new ApiClient(server.url);
		const { email, password } = await client.signUp();
		await client.request('POST', '/api/auth/logout');
		expect((await client.request('GET', '/api/me')).status).toBe(401);

		const wrong = await client.json('POST', '/api/auth/login', { json: { email, password: 'not the password' } });
		expect(wrong.status).toBe(401);
		expect(wrong.body.error.code).toBe('invalid_credentials');
		const ok = await client.json('POST', '/api/auth/login', { json: { email: email.toUpperCase(), password } });
		expect(ok.status).toBe(200);

		// Keep a copy of the session cookie, log out, replay it: the server deleted the session.
		const stolen = new ApiClient(server.url);
		stolen.cookie = client.cookie;
		expect((await stolen.request('GET', '/api/me')).status).toBe(200);
		await client.request('POST', '/api/auth/logout');
		expect((await stolen.request('GET', '/api/me')).status).toBe(401);
	});

	it('creates an API key shown once, authenticates with it, lists it hashed, and revokes it', async () => {
		const client = new ApiClient(server.url);
		await client.signUp();
		const created = await client.json('POST', '/api/keys', { json: { name: 'script' } });
		expect(created.status).toBe(201);
		const secret: string = created.body.secret;
		expect(secret).toMatch(/^ak_[A-Za-z0-9_-]{40,}$/);

		const bot = new ApiClient(server.url);
		bot.bearer = secret;
		const owner = (await client.json('GET', '/api/me')).body.user.id;
		expect((await bot.json('GET', '/api/me')).body.user.id).toBe(owner);
		// A key can't mint keys.
		expect((await bot.json('POST', '/api/keys', { json: { name: 'more' } })).status).toBe(403);

		const list = await client.json('GET', '/api/keys');
		expect(list.body.keys).toHaveLength(1);
		expect(JSON.stringify(list.body)).not.toContain(secret);
		expect(list.body.keys[0].lastUsedAt).not.toBeNull();

		// Another user can't revoke it.
		const other = new ApiClient(server.url);
		await other.signUp();
		expect((await other.request('DELETE', `/api/keys/${created.body.key.id}`)).status).toBe(404);
		expect((await client.request('DELETE', `/api/keys/${created.body.key.id}`)).status).toBe(204);
		expect((await bot.request('GET', '/api/me')).status).toBe(401);
		expect((await client.request('DELETE', `/api/keys/${created.body.key.id}`)).status).toBe(404);
	});

	it('keeps the ledger check for admins only', async () => {
		const user = new ApiClient(server.url);
		await user.signUp();
		expect((await user.request('GET', '/api/admin/ledger/check')).status).toBe(404);
		const admin = new ApiClient(server.url);
		await admin.signUp('boss@example.com');
		await claimAdmin(admin);
		const check = await admin.json('GET', '/api/admin/ledger/check');
		expect(check.status).toBe(200);
		expect(check.body.ok).toBe(true);
	});
});
