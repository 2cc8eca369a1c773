import { db } from '$lib/server/db';
import { ApiError, api, readBody } from '$lib/server/http';
import { kycConfig } from '$lib/server/kyc';
import { applyStripeEvent, verifyStripeEvent } from '$lib/server/kyc/stripe';

// Identity events are small; anything bigger isn't Stripe.
const WEBHOOK_LIMIT = 256 * 1024;

export const POST = api(async ({ params, request }) => {
	const config = kycConfig();
	if (params.provider !== 'stripe' || !config.stripe) throw new ApiError(404, 'not_found', 'No such verification provider is configured.');
	// The signature covers the exact bytes, so verify before any parsing.
	const payload = new TextDecoder().decode(await readBody(request, WEBHOOK_LIMIT));
	const event = verifyStripeEvent(config.stripe, payload, request.headers.get('stripe-signature'));
	const outcome = await applyStripeEvent(db(), event);
	return Response.json({ received: true, outcome });
});
