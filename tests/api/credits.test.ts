import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, claimAdmin } from '../../harness/broker';

describe.each(drivers)('virtual credit purchases on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	beforeAll(async () => {
		server = await startServer(driver, { env: { ADMIN_CLAIM_TOKEN } });
		admin = new ApiClient(server.url);
		await admin.signUp('ledger-admin@example.com');
		await claimAdmin(admin);
	});
	afterAll(async () => {
		expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
		await server.dispose();
	});

	const purchase = (client: ApiClient, key: string | null, body: unknown) =>
		client.json('POST', '/api/credits/purchase', { json: body, headers: key ? { 'idempotency-key': key } : {} });

	it('credits a pack once per Idempotency-Key and replays the same answer', async () => {
		const client = new ApiClient(server.url);
		await client.signUp();
		const first = await purchase(client, 'pack-1', { pack: 'creator' });
		expect(first.status).toBe(201);
		expect(first.body.purchase.credits).toBe(500);
		const again = await purchase(client, 'pack-1', { pack: 'creator' });
		expect(again.status).toBe(201);
		expect(again.body).toEqual(first.body);
		expect(again.res.headers.get('idempotent-replayed')).toBe('true');
		expect((await client.json('GET', '/api/me')).body.balance.available).toBe(500);
	});

	it('answers 409 for the same key with a different body, and credits nothing', async () => {
		const client = new ApiClient(server.url);
		await client.signUp();
		await purchase(client, 'k', { pack: 'starter' });
		const clash = await purchase(client, 'k', { pack: 'studio' });
		expect(clash.status).toBe(409);
		expect(clash.body.error.code).toBe('idempotency_key_reused');
		expect((await client.json('GET', '/api/me')).body.balance.available).toBe(100);
	});

	it('credits once when the same key arrives 20 times at once', async () => {
		const client = new ApiClient(server.url);
		await client.signUp();
		const results = await Promise.all(Array.from({ length: 20 }, () => purchase(client, 'burst', { pack: 'starter' })));
		expect(results.every((r) => r.status === 201)).toBe(true);
		expect(new Set(results.map((r) => r.body.purchase.transactionId)).size).toBe(1);
		expect((await client.json('GET', '/api/me')).body.balance.available).toBe(100);
	});

	it('scopes keys per user', async () => {
		const a = new ApiClient(server.url);
		const b = new ApiClient(server.url);
		await a.signUp();
		await b.signUp();
		expect((await purchase(a, 'shared', { pack: 'starter' })).status).toBe(201);
		expect((await purchase(b, 'shared', { pack: 'studio' })).status).toBe(201);
		expect((await b.json('GET', '/api/me')).body.balance.available).toBe(2000);
	});

	it('refuses a missing key, an unknown pack, extra fields and anonymous callers', async () => {
		const client = new ApiClient(server.url);
		await client.signUp();
		expect((await purchase(client, null, { pack: 'starter' })).body.error.code).toBe('idempotency_key_required');
		const unknown = await purchase(client, 'x1', { pack: 'infinite' });
		expect(unknown.status).toBe(422);
		expect(unknown.body.error.issues[0].path).toEqual(['pack']);
		expect((await purchase(client, 'x2', { pack: 'starter', credits: 1e9 })).status).toBe(422);
		expect((await purchase(new ApiClient(server.url), 'x3', { pack: 'starter' })).status).toBe(401);
		expect((await client.json('GET', '/api/me')).body.balance.available).toBe(0);
	});
});
