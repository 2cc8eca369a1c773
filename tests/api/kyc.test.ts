import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, claimAdmin } from '../../harness/broker';

const adult = { legalName: 'Ada Lovelace', dateOfBirth: '1990-12-10', country: 'GB' };

async function kycStatus(client: ApiClient) {
	return (await client.json('GET', '/api/me')).body.user.kycStatus;
}

describe.each(drivers)('sandbox identity verification on %s', (driver) => {
	let server: TestServer;
	beforeAll(async () => {
		server = await startServer(driver, { env: { ADMIN_CLAIM_TOKEN, KYC_RETRY_COOLDOWN_HOURS: '24' } });
	});
	afterAll(() => server.dispose());

	it('verifies an adult at once', async () => {
		const client = new ApiClient(server.url);
		await client.signUp();
		expect(await kycStatus(client)).toBe('unverified');
		const r = await client.json('POST', '/api/kyc/start', { json: adult });
		expect(r.status).toBe(200);
		expect(r.body).toEqual({ kyc: { status: 'verified', provider: 'sandbox', reason: null, retryAt: null } });
		expect(await kycStatus(client)).toBe('verified');
		const again = await client.json('POST', '/api/kyc/start', { json: adult });
		expect(again.status).toBe(409);
		expect(again.body.error.code).toBe('kyc_already_verified');
	});

	it('refuses anyone under 18, bad dates, unknown countries and extra fields, and changes nothing', async () => {
		const client = new ApiClient(server.url);
		await client.signUp();
		const today = new Date();
		const seventeen = `${today.getUTCFullYear() - 17}-01-01`;
		for (const body of [
			{ ...adult, dateOfBirth: seventeen },
			{ ...adult, dateOfBirth: '1990-02-30' },
			{ ...adult, country: 'XX' },
			{ ...adult, legalName: ' ' },
			{ ...adult, admin: true }
		]) {
			const r = await client.json('POST', '/api/kyc/start', { json: body });
			expect(r.status, JSON.stringify(body)).toBe(422);
		}
		expect(await kycStatus(client)).toBe('unverified');
	});

	it('needs a signed-in user', async () => {
		const r = await new ApiClient(server.url).json('POST', '/api/kyc/start', { json: adult });
		expect(r.status).toBe(401);
	});

	it('rejects a name containing "reject" and refuses a retry during the cool-down', async () => {
		const client = new ApiClient(server.url);
		await client.signUp();
		const r = await client.json('POST', '/api/kyc/start', { json: { ...adult, legalName: 'Please Reject Me' } });
		expect(r.status).toBe(200);
		expect(r.body.kyc).toMatchObject({ status: 'rejected', provider: 'sandbox' });
		expect(r.body.kyc.reason).toMatch(/reject/);
		expect(Date.parse(r.body.kyc.retryAt)).toBeGreaterThan(Date.now() + 23 * 3600_000);
		const retry = await client.json('POST', '/api/kyc/start', { json: adult });
		expect(retry.status).toBe(429);
		expect(retry.body.error.code).toBe('kyc_retry_later');
		expect(Number(retry.res.headers.get('retry-after'))).toBeGreaterThan(23 * 3600);
		expect(await kycStatus(client)).toBe('rejected');
	});

	it('keeps a "pending" name for an admin, who approves it from /admin; non-admins get 404 there', async () => {
		const client = new ApiClient(server.url);
		const { user } = await client.signUp();
		const r = await client.json('POST', '/api/kyc/start', { json: { ...adult, legalName: 'Pending Person' } });
		expect(r.body.kyc.status).toBe('pending');
		const twice = await client.json('POST', '/api/kyc/start', { json: adult });
		expect(twice.body.error.code).toBe('kyc_pending_review');

		// A non-admin can't see or use the admin console.
		expect((await client.request('GET', '/admin')).status).toBe(404);
		const forged = await client.request('POST', '/admin?/review', {
			body: new URLSearchParams({ userId: user.id, decision: 'approve' }),
			headers: { 'content-type': 'application/x-www-form-urlencoded' }
		});
		expect(forged.status).toBe(404);
		expect(await kycStatus(client)).toBe('pending');

		const admin = new ApiClient(server.url);
		await admin.signUp('admin@example.com');
		await claimAdmin(admin);
		const page = await admin.request('GET', '/admin');
		expect(page.status).toBe(200);
		expect(await page.text()).toContain('Pending Person');
		const approve = await admin.request('POST', '/admin?/review', {
			body: new URLSearchParams({ userId: user.id, decision: 'approve', reason: 'Looks fine' }),
			headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-sveltekit-action': 'true' }
		});
		expect(approve.status).toBe(200);
		expect(await kycStatus(client)).toBe('verified');
		// The audit trail shows who decided, and a second decision finds nothing pending.
		const after = (await (await admin.request('GET', '/admin')).text()).replace(/<!--.*?-->/g, '');
		expect(after).toContain('pending → verified');
		expect(after).toContain('admin (admin@example.com)');
		expect(after).toContain('Looks fine');
		const late = await admin.request('POST', '/admin?/review', {
			body: new URLSearchParams({ userId: user.id, decision: 'reject' }),
			headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-sveltekit-action': 'true' }
		});
		expect((await late.json()).status).toBe(409);
		expect(await kycStatus(client)).toBe('verified');
	});
});

describe.each(drivers)('Stripe Identity webhook on %s', (driver) => {
	const secret = 'whsec_test_archipelago';
	const stripe = new Stripe('sk_test_not_used');
	let server: TestServer;
	beforeAll(async () => {
		server = await startServer(driver, { env: { STRIPE_SECRET_KEY: 'sk_test_not_used', STRIPE_WEBHOOK_SECRET: secret } });
	});
	afterAll(() => server.dispose());

	function event(type: string, userId: string, extra: Record<string, unknown> = {}) {
		return JSON.stringify({
			id: `evt_${crypto.randomUUID().replace(/-/g, '')}`,
			object: 'event',
			type,
			data: { object: { id: `vs_${userId.slice(0, 8)}`, object: 'identity.verification_session', metadata: { user_id: userId }, status: 'verified', ...extra } }
		});
	}
	function send(payload: string, signature: string) {
		return fetch(`${server.url}/api/kyc/webhook/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
	}

	it('applies a validly signed "verified" event once; a replay changes nothing', async () => {
		const client = new ApiClient(server.url);
		const { user } = await client.signUp();
		const payload = event('identity.verification_session.verified', user.id);
		const res = await send(payload, stripe.webhooks.generateTestHeaderString({ payload, secret }));
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ received: true, outcome: 'applied' });
		expect(await kycStatus(client)).toBe('verified');
		const replay = await send(payload, stripe.webhooks.generateTestHeaderString({ payload, secret }));
		expect(await replay.json()).toEqual({ received: true, outcome: 'duplicate' });
	});

	it('rejects with Stripe\'s reason on "requires_input"', async () => {
		const client = new ApiClient(server.url);
		const { user } = await client.signUp();
		const payload = event('identity.verification_session.requires_input', user.id, {
			status: 'requires_input',
			last_error: { code: 'document_expired', reason: 'The document is expired.' }
		});
		expect((await send(payload, stripe.webhooks.generateTestHeaderString({ payload, secret }))).status).toBe(200);
		expect(await kycStatus(client)).toBe('rejected');
	});

	it('answers 400 to a forged, stale or missing signature and changes nothing', async () => {
		const client = new ApiClient(server.url);
		const { user } = await client.signUp();
		const payload = event('identity.verification_session.verified', user.id);
		const forged = stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_else' });
		const stale = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Math.floor(Date.now() / 1000) - 3600 });
		// A valid signature over a different body must not carry over to this one.
		const other = stripe.webhooks.generateTestHeaderString({ payload: payload.replace('verified', 'canceled'), secret });
		for (const signature of [forged, stale, other, '']) {
			const res = await send(payload, signature);
			expect(res.status).toBe(400);
			expect((await res.json()).error.code).toBe('invalid_signature');
		}
		expect(await kycStatus(client)).toBe('unverified');
	});

	it('offers Stripe on /verify, and answers 502 without a change when Stripe refuses to create a session', async () => {
		const client = new ApiClient(server.url);
		await client.signUp();
		const page = await (await client.request('GET', '/verify')).text();
		expect(page).toContain('Continue to Stripe');
		expect(page).not.toContain('Sandbox verification');
		// The key is fake: Stripe answers 401, or there is no network at all; either way, a clear 502.
		const r = await client.json('POST', '/api/kyc/start', { json: {} });
		expect(r.status).toBe(502);
		expect(r.body.error.code).toBe('kyc_provider_unavailable');
		expect(await kycStatus(client)).toBe('unverified');
	});

	it('answers 404 for a provider that is not configured', async () => {
		const res = await fetch(`${server.url}/api/kyc/webhook/acme`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
		expect(res.status).toBe(404);
	});
});
