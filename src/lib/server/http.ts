import type { RequestEvent } from '@sveltejs/kit';
import type { z } from 'zod';
import type { ApiErrorBody } from '$lib/schemas/errors';
import type { ApiKeyScope } from '$lib/schemas/scopes';
import { AccountClosedError } from './ledger/accounts';

/** Thrown anywhere in a route; `api()` turns it into the error body `{ error: { code, message, issues? } }` ($lib/schemas/errors). */
export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly issues?: NonNullable<ApiErrorBody['error']['issues']>,
		readonly headers: Record<string, string> = {}
	) {
		super(message);
	}
}

export function errorResponse(err: ApiError): Response {
	const body: ApiErrorBody = { error: { code: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) } };
	return Response.json(body, { status: err.status, headers: err.headers });
}

type Handler<E extends RequestEvent> = (event: E) => Promise<Response> | Response;

/** Wraps a route so thrown ApiErrors become 4xx bodies and anything else a logged 500. */
export function api<E extends RequestEvent>(handler: Handler<E>): Handler<E> {
	return async (event) => {
		try {
			// An id no row can have (NUL, a lone surrogate) is a missing one, not a database error.
			if (Object.values(event.params as Record<string, string>).some((v) => !isStorableText(v))) {
				throw new ApiError(404, 'not_found', 'Not found.');
			}
			return await handler(event);
		} catch (err) {
			// An unread body left on a keep-alive connection stalls the client's next request.
			// (Cancelling the stream would reset the socket before the error reaches the client.)
			if (!event.request.bodyUsed) await drain(event.request);
			if (err instanceof ApiError) return errorResponse(err);
			// A request that was already in when its account was deleted: the deletion won.
			if (err instanceof AccountClosedError) return errorResponse(new ApiError(410, 'account_deleted', 'This account was deleted; nothing was charged.'));
			console.error(`${event.request.method} ${event.url.pathname} failed:`, err);
			return errorResponse(new ApiError(500, 'internal', 'Something went wrong on our side. Nothing was charged for it.'));
		}
	};
}

async function drain(request: Request) {
	try {
		const reader = request.body?.getReader();
		while (reader && !(await reader.read()).done);
	} catch {
		// The adapter errors the stream past BODY_SIZE_LIMIT; nothing left to drain then.
	}
}

const DEFAULT_JSON_LIMIT = 64 * 1024;

/** Reads at most `limit` bytes, so an oversized body is refused before it is buffered whole. */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
	const declared = Number(request.headers.get('content-length') ?? NaN);
	if (declared > limit) throw tooLarge(limit);
	if (!request.body) return new Uint8Array();
	const reader = request.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		let chunk: ReadableStreamReadResult<Uint8Array>;
		try {
			chunk = await reader.read();
		} catch {
			// adapter-node errors the stream of a chunked body past BODY_SIZE_LIMIT (its
			// Content-Length check only covers declared sizes): that is a 413, not a crash.
			throw tooLarge(limit);
		}
		if (chunk.done) break;
		size += chunk.value.byteLength;
		// Past the limit, keep reading but drop the bytes: the client gets its 413 on a clean connection.
		if (size <= limit) chunks.push(chunk.value);
	}
	if (size > limit) throw tooLarge(limit);
	const out = new Uint8Array(size);
	let offset = 0;
	for (const c of chunks) {
		out.set(c, offset);
		offset += c.byteLength;
	}
	return out;
}

function tooLarge(limit: number) {
	return new ApiError(413, 'payload_too_large', `The request body is larger than ${limit} bytes.`);
}

/** Parses a JSON body against a schema: 400 for malformed JSON, 413 too big, 415 wrong type, 422 invalid. */
export async function readJson<S extends z.ZodType>(request: Request, schema: S, limit = DEFAULT_JSON_LIMIT): Promise<z.infer<S>> {
	const type = request.headers.get('content-type');
	if (type !== null && !isJsonType(type)) {
		throw new ApiError(415, 'unsupported_media_type', 'Send the request body as application/json.');
	}
	const bytes = await readBody(request, limit);
	let value: unknown;
	try {
		value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
	} catch {
		throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON.');
	}
	return parseWith(schema, value);
}

/** `application/json` or a `+json` type (`application/merge-patch+json`), parameters aside. */
function isJsonType(contentType: string): boolean {
	const essence = contentType.split(';')[0].trim().toLowerCase();
	return essence === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(essence);
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, code = 'invalid_request'): z.infer<S> {
	assertStorable(value);
	const parsed = schema.safeParse(value);
	if (!parsed.success) {
		const issues = parsed.error.issues.map((i) => ({
			path: i.path.filter((p): p is string | number => typeof p !== 'symbol'),
			message: i.message
		}));
		const first = issues[0];
		const where = first && first.path.length ? `${first.path.join('.')}: ` : '';
		throw new ApiError(422, code, `${where}${first?.message ?? 'invalid input'}`, issues);
	}
	return parsed.data;
}

/**
 * The signed-in user. A request made with an API key must also hold `scope`; 'session'
 * refuses API keys altogether (keys, identity verification, admin). Without a scope, any
 * authenticated caller will do (GET /api/me).
 */
/**
 * The budget key of the client's address: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64,
 * since one host is handed a whole /64 and would otherwise have 2^64 budgets. Behind a proxy
 * (ADDRESS_HEADER) a request without that header did not come through the proxy: 400.
 */
export function clientAddress(event: RequestEvent): string {
	let address: string;
	try {
		address = event.getClientAddress();
	} catch {
		throw new ApiError(400, 'no_client_address', 'The request does not say which address it comes from.');
	}
	const mapped = address.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
	if (mapped) return mapped[1];
	if (!address.includes(':')) return address;
	const [head, tail = ''] = address.toLowerCase().split('::');
	const groups = head ? head.split(':') : [];
	const rest = tail ? tail.split(':') : [];
	const full = [...groups, ...Array(Math.max(0, 8 - groups.length - rest.length)).fill('0'), ...rest];
	return `${full.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Text PostgreSQL can't store (NUL) or that isn't valid Unicode (a lone surrogate). */
export function isStorableText(s: string): boolean {
	return !s.includes('\u0000') && s.isWellFormed();
}

function assertStorable(value: unknown, path: (string | number)[] = []): void {
	if (typeof value === 'string') {
		if (!isStorableText(value)) throw new ApiError(422, 'invalid_text', `${path.length ? `${path.join('.')}: ` : ''}text with a NUL character or a lone surrogate is not accepted.`);
	} else if (Array.isArray(value)) value.forEach((v, i) => assertStorable(v, [...path, i]));
	else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) assertStorable(v, [...path, k]);
}

export function requireUser(event: RequestEvent, scope?: ApiKeyScope | 'session') {
	const user = event.locals.user;
	if (!user) throw new ApiError(401, 'unauthenticated', 'Sign in, or send an API key as "Authorization: Bearer ak_…".');
	const keyScopes = event.locals.apiKeyScopes;
	if (keyScopes && scope === 'session') {
		throw new ApiError(403, 'session_required', 'This needs a signed-in session: API keys cannot do it.');
	}
	if (keyScopes && scope && scope !== 'session' && !keyScopes.includes(scope)) {
		throw new ApiError(403, 'insufficient_scope', `This API key lacks the "${scope}" scope.`);
	}
	return user;
}
