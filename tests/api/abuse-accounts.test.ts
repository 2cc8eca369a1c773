// Hostile review, accounts side (issue 13): admin takeover, login-limit bypass and lockout,
// unlimited sign-ups, purchases, keys and Islands, API key scopes, the sandbox KYC provider
// on a public deployment. Each case is the attack, run against the production server.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, balance, claimAdmin, requester, setKyc } from '../../harness/broker';
import { rawRequest } from '../../harness/raw-http';

describe.each(drivers)('abuse of accounts on %s', (driver) => {
	let server: TestServer;
	beforeAll(async () => {
		// Defaults for every limit under test; ADMIN_EMAILS as an operator of the old version set it.
		server = await startServer(driver, {
			env: {
				ADMIN_EMAILS: 'boss@example.com',
				LOGIN_LIMIT_PER_ACCOUNT: '10',
				LOGIN_LIMIT_PER_ACCOUNT_ALL_ADDRESSES: '25',
				LOGIN_LIMIT_PER_IP: '50',
				SIGNUP_LIMIT_PER_IP: '10',
				PURCHASE_LIMIT_PER_DAY: '10',
				API_KEY_LIMIT_PER_HOUR: '20',
				ISLAND_LIMIT_PER_DAY: '20'
			}
		});
	});
	afterAll(() => server.dispose());

	it("gives no admin rights to whoever signs up with an operator's email; the console's one-time token does", async () => {
		const squatter = new ApiClient(server.url);
		await squatter.signUp('boss@example.com');
		expect((await squatter.json('GET', '/api/me')).body.user.isAdmin).toBe(false);
		expect((await squatter.request('GET', '/api/admin/ledger/check')).status).toBe(404);
		expect((await squatter.request('GET', '/admin')).status).toBe(404);
		expect(server.output()).toMatch(/ADMIN_EMAILS is ignored/);
		// A guessed token is refused; the one printed on the operator's console works once.
		const wrong = await squatter.json('POST', '/api/admin/claim', { json: { token: `adm_${'x'.repeat(43)}` } });
		expect(wrong.status).toBe(403);
		const token = server.output().match(/enter: (adm_[\w-]+)/)?.[1];
		expect(token).toBeTruthy();
		const operator = new ApiClient(server.url);
		await operator.signUp();
		await claimAdmin(operator, token);
		expect((await operator.json('GET', '/api/me')).body.user.isAdmin).toBe(true);
		expect((await operator.request('GET', '/api/admin/ledger/check')).status).toBe(200);
		expect((await squatter.json('POST', '/api/admin/claim', { json: { token } })).status).toBe(403);
		// The admin's own API key carries no admin rights.
		const key = (await operator.json('POST', '/api/keys', { json: { name: 'ops script' } })).body.secret;
		const script = new ApiClient(server.url);
		script.bearer = key;
		expect((await script.json('GET', '/api/me')).body.user.isAdmin).toBe(false);
		expect((await script.request('GET', '/api/admin/ledger/check')).status).toBe(403);

		// From /admin an admin makes another admin; a non-admin's forged form post is a 404.
		const grant = (by: ApiClient, userId: string, value: string) =>
			by.request('POST', '/admin?/admin', {
				body: new URLSearchParams({ userId, grant: value }),
				headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-sveltekit-action': 'true' }
			});
		const squatterId = (await squatter.json('GET', '/api/me')).body.user.id;
		expect((await grant(squatter, squatterId, 'true')).status).toBe(404);
		expect((await grant(operator, squatterId, 'true')).status).toBe(200);
		expect((await squatter.json('GET', '/api/me')).body.user.isAdmin).toBe(true);
		expect((await grant(operator, squatterId, 'false')).status).toBe(200);
		expect((await squatter.json('GET', '/api/me')).body.user.isAdmin).toBe(false);
	});

	it('counts a login padded past 8 KB against the account, and the owner elsewhere is not locked out', async () => {
		const owner = new ApiClient(server.url);
		const { email, password } = await owner.signUp();
		const attempt = (pw: string, pad = '', from = '127.0.0.1') =>
			rawRequest(`${server.url}/api/auth/login`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', origin: server.url },
				body: pad + JSON.stringify({ email, password: pw }),
				localAddress: from
			});
		for (let i = 0; i < 10; i++) expect((await attempt('wrong password', '', '127.0.0.3')).status).toBe(401);
		// Locked for this account from this address, padded or not, right password or not.
		expect((await attempt(password, ' '.repeat(9000), '127.0.0.3')).status).toBe(429);
		expect((await attempt(password, '', '127.0.0.3')).status).toBe(429);
		// The owner, from their own address, still gets in.
		expect((await attempt(password, '', '127.0.0.2')).status).toBe(200);
		// Spread over more addresses the guesses spend the account's ceiling (25): then only
		// addresses the owner used before may still try; the owner isn't locked out of them.
		const spread = [];
		for (const from of ['127.0.0.4', '127.0.0.5']) for (let i = 0; i < 10; i++) spread.push((await attempt('wrong password', '', from)).status);
		expect(spread.filter((s) => s === 429).length).toBeGreaterThan(0);
		expect((await attempt(password, '', '127.0.0.9')).status).toBe(429);
		expect((await attempt(password, '', '127.0.0.1')).status).toBe(200);
		expect((await attempt(password, '', '127.0.0.2')).status).toBe(200);
	});

	it('limits sign-ups per address, before any password is hashed', async () => {
		const from = '127.0.0.3';
		const statuses: number[] = [];
		for (let i = 0; i < 11; i++) {
			const r = await rawRequest(`${server.url}/api/auth/signup`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', origin: server.url },
				body: JSON.stringify({ email: `bulk-${randomUUID()}@example.com`, password: 'correct horse battery' }),
				localAddress: from
			});
			statuses.push(r.status);
		}
		expect(statuses.slice(0, 10).every((s) => s === 201)).toBe(true);
		expect(statuses[10]).toBe(429);
	});

	it('caps virtual purchases at 10 a day per user, and a refused one moves no credits', async () => {
		const buyer = await requester(server.url, null);
		for (let i = 0; i < 10; i++) await buyer.buy('studio');
		const before = await balance(buyer);
		const refused = await buyer.json('POST', '/api/credits/purchase', { json: { pack: 'studio' }, headers: { 'idempotency-key': randomUUID() } });
		expect(refused.status).toBe(429);
		expect(refused.body.error.code).toBe('rate_limited');
		expect(await balance(buyer)).toEqual(before);
	});

	it('limits API keys (20 created an hour) and Islands (20 registered a day) per user; Islands need a verified owner', async () => {
		const user = new ApiClient(server.url);
		await user.signUp();
		for (let i = 0; i < 20; i++) expect((await user.json('POST', '/api/keys', { json: { name: `k${i}` } })).status).toBe(201);
		expect((await user.json('POST', '/api/keys', { json: { name: 'one more' } })).status).toBe(429);
		const unverified = await user.json('POST', '/api/islands', { json: { name: 'earns nothing' } });
		expect([unverified.status, unverified.body.error.code]).toEqual([403, 'owner_not_verified']);
		await setKyc(user, 'verified');
		for (let i = 0; i < 20; i++) expect((await user.json('POST', '/api/islands', { json: { name: `i${i}` } })).status).toBe(201);
		expect((await user.json('POST', '/api/islands', { json: { name: 'one more' } })).status).toBe(429);
	});

	it('gives API keys scopes: by default generate and read, never buy, register Islands, verify or mint keys', async () => {
		const owner = await requester(server.url);
		const plain = (await owner.json('POST', '/api/keys', { json: { name: 'default' } })).body;
		expect(plain.key.scopes).toEqual(['jobs:read', 'jobs:write']);
		const script = new ApiClient(server.url);
		script.bearer = plain.secret;
		const before = await balance(owner);
		expect((await script.json('GET', '/api/jobs')).status).toBe(200);
		const buy = await script.json('POST', '/api/credits/purchase', { json: { pack: 'studio' }, headers: { 'idempotency-key': randomUUID() } });
		expect([buy.status, buy.body.error.code]).toEqual([403, 'insufficient_scope']);
		expect((await script.json('POST', '/api/islands', { json: { name: 'x' } })).status).toBe(403);
		expect((await script.json('POST', '/api/kyc/start', { json: {} })).status).toBe(403);
		expect((await script.json('POST', '/api/keys', { json: { name: 'more' } })).status).toBe(403);
		expect(await balance(owner)).toEqual(before);
		// A key given the scope may use it; keys don't open pages at all.
		const buyerKey = (await owner.json('POST', '/api/keys', { json: { name: 'shop', scopes: ['credits:buy'] } })).body.secret;
		const shop = new ApiClient(server.url);
		shop.bearer = buyerKey;
		expect((await shop.json('POST', '/api/credits/purchase', { json: { pack: 'starter' }, headers: { 'idempotency-key': randomUUID() } })).status).toBe(201);
		expect((await shop.json('GET', '/api/jobs')).status).toBe(403);
		expect((await shop.request('GET', '/account')).status).toBe(303);
		expect((await owner.json('POST', '/api/keys', { json: { name: 'bad', scopes: ['admin'] } })).status).toBe(422);
	});
});

describe('password hashing under a sign-up flood', () => {
	it('queues a bounded number of hashes and answers 503 busy past it; a real login still works after', async () => {
		// One hash at a time and two waiting, so a burst of sign-ups overflows the queue for sure.
		const server = await startServer('pglite', { env: { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '2' } });
		try {
			const owner = new ApiClient(server.url);
			const { email, password } = await owner.signUp();
			const burst = await Promise.all(
				Array.from({ length: 40 }, () => new ApiClient(server.url).json('POST', '/api/auth/signup', { json: { email: `flood-${randomUUID()}@example.com`, password: 'correct horse battery' } }))
			);
			const statuses = burst.map((r) => r.status);
			expect(statuses.every((s) => s === 201 || s === 503)).toBe(true);
			const busy = burst.find((r) => r.status === 503)!;
			expect(busy.body.error.code).toBe('busy');
			expect(Number(busy.res.headers.get('retry-after'))).toBeGreaterThan(0);
			expect((await new ApiClient(server.url).json('POST', '/api/auth/login', { json: { email, password } })).status).toBe(200);
		} finally {
			await server.dispose();
		}
	});
});

describe.each(drivers)('the one-time admin claim token on %s', (driver) => {
	it('is void once an admin exists, however that admin was made', async () => {
		// The first server made the database (PostgreSQL) or data folder (PGlite): its dispose
		// deletes it; the restarts only reuse it.
		const first = await startServer(driver);
		let server = first;
		const printed = server.output().match(/enter: (adm_[\w-]+)/)?.[1];
		expect(printed).toBeTruthy();
		await server.stop();
		// The operator then sets ADMIN_CLAIM_TOKEN and claims with it instead.
		server = await startServer(driver, { databaseEnv: server.databaseEnv, env: { ADMIN_CLAIM_TOKEN } });
		const operator = new ApiClient(server.url);
		await operator.signUp();
		await claimAdmin(operator);
		await server.stop();
		server = await startServer(driver, { databaseEnv: server.databaseEnv });
		try {
			expect(server.output()).not.toMatch(/No admin yet/);
			const reader = new ApiClient(server.url);
			await reader.signUp();
			expect((await reader.json('POST', '/api/admin/claim', { json: { token: printed } })).status).toBe(403);
			expect((await reader.json('GET', '/api/me')).body.user.isAdmin).toBe(false);
		} finally {
			await server.stop();
			await first.dispose();
		}
	});
});

describe('identity verification on a public deployment', () => {
	it('refuses to start with the sandbox provider behind an https ORIGIN or a proxy unless chosen explicitly', async () => {
		await expect(startServer('pglite', { env: { ORIGIN: 'https://archipelago.example' } })).rejects.toThrow(/Refusing to start: .*sandbox/);
		await expect(startServer('pglite', { env: { PROTOCOL_HEADER: 'x-forwarded-proto' } })).rejects.toThrow(/Refusing to start: .*sandbox/);
		await expect(startServer('pglite', { env: { ADDRESS_HEADER: 'x-forwarded-for' } })).rejects.toThrow(/Refusing to start: .*sandbox/);
		const chosen = await startServer('pglite', { env: { ORIGIN: 'https://archipelago.example', KYC_PROVIDER: 'sandbox', ADMIN_CLAIM_TOKEN } });
		try {
			const admin = new ApiClient(chosen.url);
			// ORIGIN is https: the session cookie is Secure, so this client replays it by hand.
			const up = await admin.json('POST', '/api/auth/signup', { json: { email: `a-${randomUUID()}@example.com`, password: 'correct horse battery' }, headers: { origin: 'https://archipelago.example' } });
			expect(up.status).toBe(201);
			await claimAdmin(admin);
			const page = await admin.request('GET', '/admin');
			expect(await page.text()).toMatch(/Identity verification: <strong>sandbox<\/strong>/);
		} finally {
			await chosen.dispose();
		}
	});

	it('behind a proxy, answers 400 (not 500) to a request that did not come through it', async () => {
		const proxied = await startServer('pglite', { env: { ADDRESS_HEADER: 'x-forwarded-for', KYC_PROVIDER: 'sandbox' } });
		try {
			const login = (headers: Record<string, string>) =>
				rawRequest(`${proxied.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ email: 'x@example.com', password: 'whatever pw' }) });
			expect((await login({})).status).toBe(400);
			expect((await login({ 'x-forwarded-for': '203.0.113.7' })).status).toBe(401);
		} finally {
			await proxied.dispose();
		}
	});
});
