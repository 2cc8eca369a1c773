import { and, eq } from 'drizzle-orm';
import Stripe from 'stripe';
import type { Database } from '../db';
import { kycEvents } from '../db/schema';
import { ApiError } from '../http';
import type { KycConfig } from './config';
import { changeKycStatus, latestReference } from './status';

type StripeSecrets = NonNullable<KycConfig['stripe']>;

let client: { key: string; stripe: Stripe } | null = null;
function stripeFor(secrets: StripeSecrets): Stripe {
	if (client?.key !== secrets.secretKey) {
		// A short timeout: the person is waiting on /verify, and a slow Stripe should say so, not hang.
		client = { key: secrets.secretKey, stripe: new Stripe(secrets.secretKey, { timeout: 20_000, maxNetworkRetries: 1 }) };
	}
	return client.stripe;
}

/** Creates a document VerificationSession; the person finishes it on Stripe's page. */
export async function createStripeSession(secrets: StripeSecrets, user: { id: string; email: string }, returnUrl: string) {
	try {
		const session = await stripeFor(secrets).identity.verificationSessions.create({
			type: 'document',
			client_reference_id: user.id,
			metadata: { user_id: user.id },
			provided_details: { email: user.email },
			options: { document: { require_matching_selfie: true } },
			return_url: returnUrl
		});
		if (!session.url) throw new Error('Stripe returned a session without a URL');
		return { reference: session.id, url: session.url };
	} catch (err) {
		console.error('stripe identity: creating a session failed:', err instanceof Error ? err.message : err);
		throw new ApiError(502, 'kyc_provider_unavailable', 'The identity provider could not be reached. Try again in a minute.');
	}
}

/** Checks the Stripe-Signature (HMAC and timestamp tolerance); anything else is a 400 that changes nothing. */
export function verifyStripeEvent(secrets: StripeSecrets, payload: string, signature: string | null): Stripe.Event {
	if (!signature) throw new ApiError(400, 'invalid_signature', 'Missing Stripe-Signature header.');
	try {
		return stripeFor(secrets).webhooks.constructEvent(payload, signature, secrets.webhookSecret);
	} catch {
		throw new ApiError(400, 'invalid_signature', 'The webhook signature is invalid or too old.');
	}
}

export type WebhookOutcome = 'applied' | 'ignored' | 'duplicate';

/** Applies a verified Identity event to the user it names; replays and stale sessions change nothing. */
export async function applyStripeEvent(db: Database, event: Stripe.Event): Promise<WebhookOutcome> {
	if (!event.type.startsWith('identity.verification_session.')) return 'ignored';
	const session = event.data.object as Stripe.Identity.VerificationSession;
	const userId = session.metadata?.user_id ?? session.client_reference_id;
	if (!userId) return 'ignored';
	const decision = decide(event.type, session);
	if (!decision) return 'ignored';
	return db.transaction(async (tx) => {
		// Stripe delivers at least once; the unique index backs this check under a race.
		const seen = await tx
			.select({ id: kycEvents.id })
			.from(kycEvents)
			.where(and(eq(kycEvents.provider, 'stripe'), eq(kycEvents.providerEventId, event.id)));
		if (seen.length) return 'duplicate';
		// A late event of an older session must not decide a newer attempt.
		const latest = await latestReference(tx, userId, 'stripe');
		if (latest && latest !== session.id) return 'ignored';
		const changed = await changeKycStatus(tx, {
			userId,
			from: decision.from,
			to: decision.to,
			actor: 'provider',
			provider: 'stripe',
			reference: session.id,
			providerEventId: event.id,
			reason: decision.reason
		});
		return changed ? 'applied' : 'ignored';
	});
}

function decide(type: string, session: Stripe.Identity.VerificationSession) {
	switch (type) {
		case 'identity.verification_session.verified':
			// From rejected too: after requires_input the person may retry within the same session.
			return { from: ['unverified', 'pending', 'rejected'] as const, to: 'verified' as const, reason: 'Stripe Identity verified the document.' };
		case 'identity.verification_session.requires_input':
			return {
				from: ['unverified', 'pending'] as const,
				to: 'rejected' as const,
				reason: session.last_error?.reason ?? `Stripe Identity could not verify you (${session.last_error?.code ?? 'requires input'}).`
			};
		case 'identity.verification_session.canceled':
			return { from: ['pending'] as const, to: 'unverified' as const, reason: 'The verification session was canceled.' };
		default:
			return null;
	}
}
