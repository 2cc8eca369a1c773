import type Stripe from 'stripe';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, openTestDatabase, type TestDatabase } from '../../../../tests/helpers/db';
import { createUser, toSessionUser } from '../auth/users';
import { kycEvents } from '../db/schema';
import { kycConfig } from './config';
import { kycState, reviewVerification, startVerification } from './index';
import { applyStripeEvent } from './stripe';

const sandbox = kycConfig({ KYC_RETRY_COOLDOWN_HOURS: '24' });
const returnUrl = 'http://localhost/verify';
const details = (legalName: string) => ({ legalName, dateOfBirth: '1985-03-04', country: 'DE' });

describe('provider selection', () => {
	it('uses Stripe only when both secrets are set, the sandbox otherwise', () => {
		expect(kycConfig({}).provider).toBe('sandbox');
		expect(kycConfig({ STRIPE_SECRET_KEY: 'sk_test_x' }).provider).toBe('sandbox');
		expect(kycConfig({ STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' }).provider).toBe('stripe');
		expect(kycConfig({}).retryCooldownMs).toBe(24 * 3600_000);
		expect(kycConfig({ KYC_RETRY_COOLDOWN_HOURS: '0' }).retryCooldownMs).toBe(0);
	});
});

describe.each(drivers)('KYC state machine on %s', (driver) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(driver, 10);
	});
	afterAll(() => t.dispose());

	async function newUser(email = `${crypto.randomUUID()}@example.com`) {
		return toSessionUser((await createUser(t.db, email, 'x'))!);
	}
	const trail = (userId: string) => t.db.select().from(kycEvents).where(eq(kycEvents.userId, userId)).orderBy(asc(kycEvents.id));

	it('records who changed what, when and why: the submission, then the provider decision', async () => {
		const user = await newUser();
		const result = await startVerification(t.db, user, details('Emmy Noether'), { config: sandbox, returnUrl });
		expect(result.kyc.status).toBe('verified');
		const rows = await trail(user.id);
		expect(rows.map((r) => [r.fromStatus, r.toStatus, r.actor])).toEqual([
			['unverified', 'pending', 'user'],
			['pending', 'verified', 'provider']
		]);
		expect(rows[0]).toMatchObject({ actorUserId: user.id, provider: 'sandbox', details: details('Emmy Noether') });
		expect(rows[1].reference).toBe(rows[0].reference);
		expect(rows[1].reason).toMatch(/verified/);
	});

	it('lets a rejected person retry only after the cool-down', async () => {
		const user = await newUser();
		const rejected = await startVerification(t.db, user, details('Reject Me'), { config: sandbox, returnUrl });
		expect(rejected.kyc.status).toBe('rejected');
		await expect(startVerification(t.db, user, details('Fine Now'), { config: sandbox, returnUrl })).rejects.toMatchObject({
			status: 429,
			code: 'kyc_retry_later'
		});
		// The cool-down is measured from the rejection's audit row; look from a day and an hour later.
		const later = new Date(Date.now() + 25 * 3600_000);
		expect((await kycState(t.db, user.id, sandbox, later)).retryAt).toBeNull();
		const retried = await startVerification(t.db, user, details('Fine Now'), { config: sandbox, returnUrl, now: later });
		expect(retried.kyc.status).toBe('verified');
		expect((await trail(user.id)).map((r) => r.toStatus)).toEqual(['pending', 'rejected', 'pending', 'verified']);
	});

	it('leaves a pending person for one admin decision; concurrent decisions can\'t both apply', async () => {
		const admin = await newUser();
		const user = await newUser();
		expect((await startVerification(t.db, user, details('Pending Review'), { config: sandbox, returnUrl })).kyc.status).toBe('pending');
		const decisions = await Promise.all([
			reviewVerification(t.db, admin, user.id, 'approve', 'ok'),
			reviewVerification(t.db, admin, user.id, 'reject', 'blurry'),
			reviewVerification(t.db, admin, user.id, 'approve', 'ok')
		]);
		expect(decisions.filter(Boolean)).toHaveLength(1);
		const rows = await trail(user.id);
		expect(rows.filter((r) => r.actor === 'admin')).toHaveLength(1);
		expect(rows.at(-1)).toMatchObject({ fromStatus: 'pending', actor: 'admin', actorUserId: admin.id });
	});

	function stripeEvent(type: string, userId: string, sessionId: string, extra: object = {}) {
		return {
			id: `evt_${crypto.randomUUID()}`,
			object: 'event',
			type,
			data: { object: { id: sessionId, object: 'identity.verification_session', metadata: { user_id: userId }, ...extra } }
		} as unknown as Stripe.Event;
	}

	it('applies Stripe events to the latest session only, once each', async () => {
		const user = await newUser();
		// What startVerification records after Stripe created session vs_new (the network call isn't possible here).
		await t.db.insert(kycEvents).values({ userId: user.id, fromStatus: 'unverified', toStatus: 'unverified', actor: 'user', provider: 'stripe', reference: 'vs_old' });
		await t.db.insert(kycEvents).values({ userId: user.id, fromStatus: 'unverified', toStatus: 'unverified', actor: 'user', provider: 'stripe', reference: 'vs_new' });
		expect(await applyStripeEvent(t.db, stripeEvent('identity.verification_session.verified', user.id, 'vs_old'))).toBe('ignored');
		expect((await kycState(t.db, user.id, sandbox)).status).toBe('unverified');
		const failed = stripeEvent('identity.verification_session.requires_input', user.id, 'vs_new', { last_error: { code: 'selfie_face_mismatch', reason: 'The selfie does not match the document.' } });
		expect(await applyStripeEvent(t.db, failed)).toBe('applied');
		expect(await applyStripeEvent(t.db, failed)).toBe('duplicate');
		expect(await kycState(t.db, user.id, sandbox)).toMatchObject({ status: 'rejected', reason: 'The selfie does not match the document.' });
		expect(await applyStripeEvent(t.db, stripeEvent('identity.verification_session.processing', user.id, 'vs_new'))).toBe('ignored');
		expect(await applyStripeEvent(t.db, stripeEvent('customer.created', user.id, 'vs_new'))).toBe('ignored');
		// Stripe lets the person retry inside the same session after requires_input.
		expect(await applyStripeEvent(t.db, stripeEvent('identity.verification_session.verified', user.id, 'vs_new'))).toBe('applied');
		expect((await kycState(t.db, user.id, sandbox)).status).toBe('verified');
		expect(await applyStripeEvent(t.db, stripeEvent('identity.verification_session.canceled', user.id, 'vs_new'))).toBe('ignored');
	});
});
