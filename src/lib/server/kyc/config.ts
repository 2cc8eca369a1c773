export type KycProviderId = 'sandbox' | 'stripe';

export interface KycConfig {
	provider: KycProviderId;
	stripe: { secretKey: string; webhookSecret: string } | null;
	/** How long a rejected person waits before trying again (abuse of a paid provider costs per attempt). */
	retryCooldownMs: number;
}

/**
 * Stripe Identity when both of its secrets are set, otherwise the sandbox, so that
 * `npm start` on a fresh machine can verify without any account anywhere. KYC_PROVIDER
 * names the choice explicitly (`sandbox` or `stripe`).
 */
export function kycConfig(env: NodeJS.ProcessEnv = process.env): KycConfig {
	const secretKey = env.STRIPE_SECRET_KEY?.trim();
	const webhookSecret = env.STRIPE_WEBHOOK_SECRET?.trim();
	const stripe = secretKey && webhookSecret ? { secretKey, webhookSecret } : null;
	const hours = env.KYC_RETRY_COOLDOWN_HOURS === undefined ? 24 : Number(env.KYC_RETRY_COOLDOWN_HOURS);
	const chosen = env.KYC_PROVIDER?.trim();
	return {
		provider: chosen === 'sandbox' ? 'sandbox' : stripe ? 'stripe' : 'sandbox',
		stripe: chosen === 'sandbox' ? null : stripe,
		retryCooldownMs: Number.isFinite(hours) && hours >= 0 ? hours * 3600_000 : 24 * 3600_000
	};
}

/**
 * The sandbox verifies any adult who types a name: fine on a laptop, a hole on the public
 * internet. A deployment with an https ORIGIN refuses to start on it unless the operator
 * wrote KYC_PROVIDER=sandbox (a public demo, say); KYC_PROVIDER=stripe without its secrets
 * is refused too. Returns the reason, or null when the configuration is acceptable.
 */
export function unsafeKycReason(env: NodeJS.ProcessEnv = process.env): string | null {
	const chosen = env.KYC_PROVIDER?.trim();
	if (chosen && chosen !== 'sandbox' && chosen !== 'stripe') return `KYC_PROVIDER must be "sandbox" or "stripe", not "${chosen}".`;
	const config = kycConfig(env);
	if (chosen === 'stripe' && config.provider !== 'stripe') return 'KYC_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.';
	// An https ORIGIN or a proxy's headers (PROTOCOL_HEADER, ADDRESS_HEADER) mean a deployment
	// (server/index.js sets its own x-archipelago-proto when no proxy is configured).
	const proxied = (env.PROTOCOL_HEADER?.trim() && env.PROTOCOL_HEADER !== 'x-archipelago-proto') || env.ADDRESS_HEADER?.trim();
	const isPublic = (env.ORIGIN ?? '').trim().toLowerCase().startsWith('https://') || !!proxied;
	if (isPublic && config.provider === 'sandbox' && chosen !== 'sandbox') {
		return 'This is a public deployment (an https ORIGIN, or a proxy\'s PROTOCOL_HEADER/ADDRESS_HEADER) but identity verification would use the sandbox, which verifies anyone. Configure Stripe Identity (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET) or set KYC_PROVIDER=sandbox to run the sandbox on purpose.';
	}
	return null;
}
