export type KycProviderId = 'sandbox' | 'stripe';

export interface KycConfig {
	provider: KycProviderId;
	stripe: { secretKey: string; webhookSecret: string } | null;
	/** How long a rejected person waits before trying again (abuse of a paid provider costs per attempt). */
	retryCooldownMs: number;
}

/**
 * Stripe Identity when both of its secrets are set, otherwise the sandbox, so that
 * `npm start` on a fresh machine can verify without any account anywhere.
 */
export function kycConfig(env: NodeJS.ProcessEnv = process.env): KycConfig {
	const secretKey = env.STRIPE_SECRET_KEY?.trim();
	const webhookSecret = env.STRIPE_WEBHOOK_SECRET?.trim();
	const stripe = secretKey && webhookSecret ? { secretKey, webhookSecret } : null;
	const hours = env.KYC_RETRY_COOLDOWN_HOURS === undefined ? 24 : Number(env.KYC_RETRY_COOLDOWN_HOURS);
	return {
		provider: stripe ? 'stripe' : 'sandbox',
		stripe,
		retryCooldownMs: Number.isFinite(hours) && hours >= 0 ? hours * 3600_000 : 24 * 3600_000
	};
}
