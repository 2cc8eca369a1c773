// Accounts (sign-up, sessions, keys, identity, deletion), admin and the server's own routes.
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { z } from 'zod';
import { AccountDeletion, AdminClaim, ApiKeyCreate, Credentials } from '$lib/schemas/auth';
import { SandboxKycInput, StripeKycInput } from '$lib/schemas/kyc';
import { AccountSummary, ApiKeyCreated, ApiKeyList, Health, KycStartResult, LedgerCheckSchema } from '$lib/api/responses';
import { AUTHED, JSON_BODY, json, jsonBody, operation, refusals } from './operations';

const KEYS_ARE_SESSION_ONLY = 'Session only: a leaked key must not be able to mint more keys or revoke its owner\'s.';

export const accountPaths: ZodOpenApiPathsObject = {
	'/api/health': {
		get: operation('public', { tags: ['Server'], summary: 'Liveness and the database in use', responses: { 200: json('Up.', Health) } })
	},
	'/api/openapi.json': {
		get: operation('public', {
			tags: ['Server'],
			summary: 'This document',
			responses: { 200: json('OpenAPI 3.1, generated from the zod schemas the routes validate with.', z.record(z.string(), z.unknown())) }
		})
	},
	'/api/auth/signup': {
		post: operation('public', {
			tags: ['Accounts'],
			summary: 'Create an account and a session',
			description: 'Sets the `session` cookie (httpOnly, SameSite=Lax).',
			requestBody: jsonBody(Credentials),
			responses: { 201: json('Signed up and in.', AccountSummary), ...refusals([...JSON_BODY, 409, 429, 503], { 409: '`email_taken`.', 503: '`busy`: too many password hashes queued.' }) }
		})
	},
	'/api/auth/login': {
		post: operation('public', {
			tags: ['Accounts'],
			summary: 'Sign in',
			description: 'Sets the `session` cookie. Guesses are budgeted per account and address.',
			requestBody: jsonBody(Credentials),
			responses: { 200: json('Signed in.', AccountSummary), ...refusals([...JSON_BODY, 401, 429, 503], { 401: '`invalid_credentials`.', 503: '`busy`.' }) }
		})
	},
	'/api/auth/logout': {
		post: operation('public', {
			tags: ['Accounts'],
			summary: 'Sign out',
			description: 'Ends the session the cookie names (if any) at once.',
			responses: { 204: { description: 'Signed out.' } }
		})
	},
	'/api/me': {
		get: operation('user', { tags: ['Accounts'], summary: 'Who you are and your balance', responses: { 200: json('You.', AccountSummary), ...refusals([401]) } }),
		delete: operation('session', {
			tags: ['Accounts'],
			summary: 'Delete your account',
			description:
				'Needs your password and the phrase `delete my account`. Running jobs are cancelled and refunded; Islands retired (their jobs go back to the queue, their escrow is forfeited); sessions, keys, pictures, prompts and identity details deleted; the email is freed. The ledger keeps its rows, with your accounts closed (docs/privacy.md). Session only: a key must not be able to end its owner\'s account.',
			requestBody: jsonBody(AccountDeletion),
			responses: { 204: { description: 'Deleted; the session cookie is cleared.' }, ...refusals([...AUTHED, ...JSON_BODY, 404, 429], { 403: '`wrong_password`, or `session_required` with an API key.' }) }
		})
	},
	'/api/keys': {
		get: operation('session', { tags: ['Accounts'], summary: 'Your API keys', description: KEYS_ARE_SESSION_ONLY, responses: { 200: json('Your keys (never their secrets).', ApiKeyList), ...refusals(AUTHED) } }),
		post: operation('session', {
			tags: ['Accounts'],
			summary: 'Make an API key',
			description: `${KEYS_ARE_SESSION_ONLY} Scopes default to jobs:read and jobs:write.`,
			requestBody: jsonBody(ApiKeyCreate),
			responses: { 201: json('The key; its secret is shown once.', ApiKeyCreated), ...refusals([...AUTHED, ...JSON_BODY, 409, 429], { 409: '`too_many_keys`.' }) }
		})
	},
	'/api/keys/{id}': {
		delete: operation('session', {
			tags: ['Accounts'],
			summary: 'Revoke an API key',
			description: `${KEYS_ARE_SESSION_ONLY} It stops working at once.`,
			requestParams: { path: z.object({ id: z.string() }) },
			responses: { 204: { description: 'Revoked.' }, ...refusals([...AUTHED, 404]) }
		})
	},
	'/api/kyc/start': {
		post: operation('session', {
			tags: ['Accounts'],
			summary: 'Verify your identity',
			description: 'The sandbox decides at once from the details; Stripe answers the page to continue on (`redirectUrl`). Session only: verification is the person, not a script.',
			requestBody: jsonBody(z.union([SandboxKycInput, StripeKycInput]), 'Sandbox: legal name, date of birth, country. Stripe: `{}`.'),
			responses: {
				200: json('Where verification stands.', KycStartResult),
				...refusals([...AUTHED, ...JSON_BODY, 409, 429, 502], { 409: '`kyc_already_verified` or `kyc_pending_review`.', 429: '`kyc_retry_later` after a rejection, or a budget.', 502: '`kyc_provider_unavailable`.' })
			}
		})
	},
	'/api/kyc/webhook/{provider}': {
		post: operation('public', {
			tags: ['Accounts'],
			summary: 'Identity provider webhook (Stripe)',
			description: 'Checked by the provider\'s signature over the exact bytes (`Stripe-Signature`).',
			requestParams: { path: z.object({ provider: z.enum(['stripe']) }) },
			requestBody: { required: true, content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
			responses: { 200: json('Received.', z.object({ received: z.literal(true), outcome: z.enum(['applied', 'ignored', 'duplicate']) })), ...refusals([400, 404, 413]) }
		})
	},
	'/api/admin/claim': {
		post: operation('session', {
			tags: ['Admin'],
			summary: 'Claim admin rights with the operator\'s token',
			description: 'Admin rights need a person at a session; keys never carry them.',
			requestBody: jsonBody(AdminClaim),
			responses: { 200: json('You are admin.', z.object({ isAdmin: z.literal(true) })), ...refusals([...AUTHED, ...JSON_BODY, 429], { 403: '`invalid_claim_token`, or `session_required`.' }) }
		})
	},
	'/api/admin/ledger/check': {
		get: operation('session', {
			tags: ['Admin'],
			summary: 'Check the ledger\'s invariants',
			description: 'Admins only (anyone else gets 404).',
			responses: { 200: json('The check.', LedgerCheckSchema), ...refusals([...AUTHED, 404]) }
		})
	}
};
