import { z } from './zod';

// Virtual during the open beta: a pack credits the account at once, no payment is taken.
export const CREDIT_PACKS = {
	starter: { credits: 100, label: 'Starter' },
	creator: { credits: 500, label: 'Creator' },
	studio: { credits: 2000, label: 'Studio' }
} as const;
export type CreditPackId = keyof typeof CREDIT_PACKS;

export const PurchaseRequest = z.strictObject({
	pack: z.enum(Object.keys(CREDIT_PACKS) as [CreditPackId, ...CreditPackId[]])
});

/** Below this the requester pages nudge towards buying credits (the cheapest image costs 10). */
export const LOW_BALANCE = 10;
