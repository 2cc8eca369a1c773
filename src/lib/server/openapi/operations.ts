// The pieces every operation of the API document repeats: who may call it (a session, an API
// key with a scope, an Island token, anyone), its JSON answers and its refusals.
import type { ZodOpenApiOperationObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import type { z } from 'zod';
import { ApiErrorBody } from '$lib/schemas/errors';
import type { ApiKeyScope } from '$lib/schemas/scopes';

export const ErrorSchema = ApiErrorBody.meta({ description: 'Every refusal: `code` for programs, `message` for people, `issues` for invalid input.' });

/**
 * Who may call an operation: a scope means a session or an API key holding it; 'user' any
 * signed-in caller or key; 'session' a session only (the reason goes in the description);
 * 'island' an Island token; 'public' anyone.
 */
export type Caller = ApiKeyScope | 'user' | 'session' | 'island' | 'public';

export function security(caller: Caller): ZodOpenApiOperationObject['security'] {
	switch (caller) {
		case 'public':
			return [];
		case 'session':
			return [{ session: [] }];
		case 'island':
			return [{ island: [] }];
		case 'user':
			return [{ session: [] }, { apiKey: [] }];
		default:
			// OpenAPI 3.1: a non-OAuth scheme's array names the roles it needs; here the key's scope.
			return [{ session: [] }, { apiKey: [caller] }];
	}
}

const REFUSALS: Record<number, string> = {
	400: 'Malformed request (bad JSON, a header missing).',
	401: 'Not signed in, or the key or token is unknown.',
	402: 'Not enough credits.',
	403: 'Not allowed: a scope the key lacks (`insufficient_scope`), a session-only action (`session_required`), identity not verified.',
	404: 'No such thing, or it is not yours (the two are indistinguishable).',
	409: 'Conflicts with its current state.',
	410: 'Gone.',
	413: 'The body is too large.',
	415: 'The body is not of the type expected.',
	422: 'Invalid input; `issues` says where.',
	429: 'Over a budget or cap; `Retry-After` says when to try again.',
	502: 'A provider this depends on did not answer.',
	503: 'Busy; `Retry-After` says when to try again.'
};

/** Error answers, each with the common body; `notes` overrides a status's description. */
export function refusals(statuses: number[], notes: Record<number, string> = {}): ZodOpenApiResponsesObject {
	return Object.fromEntries(
		statuses.map((s) => [String(s), { description: notes[s] ?? REFUSALS[s], content: { 'application/json': { schema: ErrorSchema } } }])
	);
}

export function json(description: string, schema: z.ZodType) {
	return { description, content: { 'application/json': { schema } } };
}

export function jsonBody(schema: z.ZodType, description?: string) {
	return { required: true, description, content: { 'application/json': { schema } } };
}

/** The statuses any caller of an authenticated JSON route can meet. */
export const AUTHED = [401, 403];
export const JSON_BODY = [400, 413, 415, 422];

export function operation(caller: Caller, op: Omit<ZodOpenApiOperationObject, 'security'>): ZodOpenApiOperationObject {
	const who =
		caller === 'public' ? 'Anyone.' :
		caller === 'session' ? 'A signed-in session only.' :
		caller === 'island' ? 'An Island token (`Authorization: Bearer isl_…`).' :
		caller === 'user' ? 'A session or any API key.' :
		`A session, or an API key with the \`${caller}\` scope.`;
	return { ...op, description: `${op.description ?? ''}\n\n**Who:** ${who}`.trim(), security: security(caller), 'x-caller': caller };
}
