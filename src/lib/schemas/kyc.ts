import { z } from './zod';
import { COUNTRY_CODES } from '../countries';

const KYC_STATUSES = ['unverified', 'pending', 'verified', 'rejected'] as const;
export type KycStatusName = (typeof KYC_STATUSES)[number];

/** Whole years between a YYYY-MM-DD birth date and `now` (UTC calendar, birthday counted on the day). */
function ageOn(dateOfBirth: string, now: Date): number {
	const [y, m, d] = dateOfBirth.split('-').map(Number);
	let age = now.getUTCFullYear() - y;
	const beforeBirthday = now.getUTCMonth() + 1 < m || (now.getUTCMonth() + 1 === m && now.getUTCDate() < d);
	if (beforeBirthday) age -= 1;
	return age;
}

const MINIMUM_AGE = 18;

function isRealDate(value: string) {
	const date = new Date(`${value}T00:00:00Z`);
	return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** What the sandbox provider asks for; the same schema drives the /verify form's messages. */
export const SandboxKycInput = z
	.object({
		legalName: z.string().trim().min(2, 'Enter your full legal name.').max(200),
		dateOfBirth: z
			.string()
			.regex(/^\d{4}-\d{2}-\d{2}$/, 'Enter your date of birth as YYYY-MM-DD.')
			.refine(isRealDate, 'That date does not exist.')
			.refine((v) => ageOn(v, new Date()) >= MINIMUM_AGE, `You must be at least ${MINIMUM_AGE} years old.`)
			.refine((v) => ageOn(v, new Date()) <= 130, 'Check the year of your date of birth.'),
		country: z
			.string()
			.trim()
			.toUpperCase()
			.refine((c) => COUNTRY_CODES.includes(c), 'Choose your country.')
	})
	.strict();
export type SandboxKycInput = z.infer<typeof SandboxKycInput>;

/** Stripe collects documents on its own page, so its start request has no fields. */
export const StripeKycInput = z.object({}).strict();

/** The answer of POST /api/kyc/start and the `kyc` part the pages read. */
export interface KycState {
	status: KycStatusName;
	provider: 'sandbox' | 'stripe';
	/** Why the last rejection happened, in words the person can act on. */
	reason: string | null;
	/** When a rejected person may try again (ISO), null when they may now. */
	retryAt: string | null;
}
