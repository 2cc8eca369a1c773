import { z } from './zod';
import { ApiKeyScope, DEFAULT_API_KEY_SCOPES } from './scopes';
import { ACCOUNT_DELETION_PHRASE } from '../api/account';

export const Credentials = z.strictObject({
	email: z.email({ message: 'Enter a valid email address.' }).max(254),
	password: z.string().min(8, { message: 'Use at least 8 characters.' }).max(200, { message: 'Use at most 200 characters.' })
});
export type Credentials = z.infer<typeof Credentials>;

export const ApiKeyCreate = z.strictObject({
	name: z.string().trim().min(1, { message: 'Name the key.' }).max(60),
	scopes: z
		.array(ApiKeyScope)
		.min(1)
		.max(4)
		.transform((s) => [...new Set(s)])
		.default([...DEFAULT_API_KEY_SCOPES])
});

/** POST /api/admin/claim: the operator's claim token. */
export const AdminClaim = z.strictObject({ token: z.string().trim().min(16).max(200) });

export { ACCOUNT_DELETION_PHRASE } from '../api/account';

/** DELETE /api/me: the password and the typed phrase, so neither a stolen session nor a slip deletes it. */
export const AccountDeletion = z.strictObject({
	password: z.string().min(1, { message: 'Enter your password.' }).max(200),
	confirm: z.literal(ACCOUNT_DELETION_PHRASE, { message: `Type "${ACCOUNT_DELETION_PHRASE}" to confirm.` })
});
