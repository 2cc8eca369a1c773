// The KYC gate and the prompt filter on the real submit route: refused before any credit moves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, balance, claimAdmin, demoParams, setKyc, TRUST_OFF } from '../../harness/broker';
import { TestIsland } from '../../harness/test-island';

const ADMIN = 'gate-admin@example.com';

describe.each(drivers)('generation gate on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	beforeAll(async () => {
		server = await startServer(driver, { env: { ADMIN_CLAIM_TOKEN, ...TRUST_OFF } });
		admin = new ApiClient(server.url);
		await admin.signUp(ADMIN);
		await claimAdmin(admin);
	});
	afterAll(() => server.dispose());

	async function verifiedRequester() {
		const client = new ApiClient(server.url);
		await client.signUp();
		await client.buy();
		const v = await client.json('POST', '/api/kyc/start', { json: { legalName: 'Grace Hopper', dateOfBirth: '1980-06-01', country: 'US' } });
		expect(v.body.kyc.status).toBe('verified');
		return client;
	}

	it('refuses unverified, pending and rejected users with 403 kyc_required, and lets them through once verified', async () => {
		for (const legalName of [null, 'Pending Pat', 'Reject Rita']) {
			const client = new ApiClient(server.url);
			await client.signUp();
			await client.buy();
			if (legalName) await client.json('POST', '/api/kyc/start', { json: { legalName, dateOfBirth: '1980-06-01', country: 'US' } });
			const r = await client.json('POST', '/api/jobs', { json: { params: demoParams() } });
			expect(r.status, String(legalName)).toBe(403);
			expect(r.body.error.code).toBe('kyc_required');
			expect(await balance(client)).toEqual({ available: 100, held: 0 });
		}

		const client = await verifiedRequester();
		const ok = await client.json('POST', '/api/jobs', { json: { params: demoParams() } });
		expect(ok.status).toBe(201);
		expect((await balance(client)).held).toBe(ok.body.job.cost);
	});

	it('refuses a blocked prompt or negative prompt with 422 prompt_rejected, holds nothing, and shows it on /admin', async () => {
		const client = await verifiedRequester();
		for (const params of [demoParams({ prompt: 'a N.U.D.E portrait' }), demoParams({ negativePrompt: 'ｐ０ｒｎ' })]) {
			const r = await client.json('POST', '/api/jobs', { json: { params } });
			expect(r.status).toBe(422);
			expect(r.body.error.code).toBe('prompt_rejected');
			expect(r.body.error.message).toMatch(/Nothing was charged/);
		}
		expect(await balance(client)).toEqual({ available: 100, held: 0 });
		expect((await client.json('GET', '/api/jobs')).body.jobs).toEqual([]);

		const page = await (await admin.request('GET', '/admin')).text();
		expect(page).toContain('a N.U.D.E portrait');
		expect(page).toContain('ｐ０ｒｎ');
		expect(page).toMatch(/data-ok="true"/);
		// A harmless prompt with a blocked substring goes through.
		expect((await client.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: 'a cocktail in Scunthorpe' }) } })).status).toBe(201);
	});

	it('shows Islands with backend and jobs done, recent jobs and users with balances on /admin', async () => {
		await setKyc(admin, 'verified');
		const island = await TestIsland.register(admin);
		const client = await verifiedRequester();
		const submitted = await client.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: 'a lighthouse for the admin page' }) } });
		expect(submitted.status).toBe(201);
		// Earlier tests left jobs in the queue; the Island takes them oldest first.
		for (let i = 0; i < 5 && (await client.json('GET', `/api/jobs/${submitted.body.job.id}`)).body.job.status !== 'completed'; i++) {
			await island.runOne();
		}
		const page = (await (await admin.request('GET', '/admin')).text()).replace(/<!--.*?-->/g, '');
		expect(page).toMatch(/<td>test island<\/td><td>gate-admin@example.com<\/td><td>online<\/td><td>node<\/td><td>demo<\/td><td>[1-9]\d*<\/td>/);
		expect(page).toContain('a lighthouse for the admin page');
		expect(page).toMatch(/<td>completed<\/td>/);
		const { user } = (await client.json('GET', '/api/me')).body;
		const { available, held } = await balance(client);
		expect(held).toBe(0);
		expect(page).toContain(`<td>${user.email}</td><td>verified</td><td>${available}</td><td>0</td>`);
		expect(page).toMatch(/data-ok="true"/);
	});
});
