import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Transaction } from './db';
import { idempotencyKeys } from './db/schema';
import { ApiError } from './http';

const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

export function idempotencyKeyFrom(request: Request): string {
	const key = optionalIdempotencyKey(request);
	if (!key) throw new ApiError(400, 'idempotency_key_required', 'Send an Idempotency-Key header so a retried request is applied once.');
	return key;
}

/** The Idempotency-Key where a route takes one but doesn't require it (null without the header). */
export function optionalIdempotencyKey(request: Request): string | null {
	const key = request.headers.get('idempotency-key');
	if (key === null) return null;
	if (!KEY_PATTERN.test(key)) throw new ApiError(400, 'invalid_idempotency_key', 'The Idempotency-Key must be 1–200 visible ASCII characters.');
	return key;
}

export interface StoredResponse {
	status: number;
	body: Record<string, unknown>;
}

/**
 * Runs `effect` once per (user, scope, key) inside the caller's transaction. The row is
 * claimed first: a concurrent duplicate blocks on the primary key until this commits, then
 * replays the stored answer. The same key with a different body is a client bug → 409.
 */
export async function once(
	tx: Transaction,
	ids: { userId: string; scope: string; key: string },
	body: unknown,
	effect: () => Promise<StoredResponse>
): Promise<StoredResponse & { replayed: boolean }> {
	const requestHash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
	const claimed = await tx
		.insert(idempotencyKeys)
		.values({ ...ids, requestHash, responseStatus: 0, responseBody: {} })
		.onConflictDoNothing()
		.returning({ key: idempotencyKeys.key });
	if (claimed.length === 0) {
		const [prior] = await tx
			.select()
			.from(idempotencyKeys)
			.where(and(eq(idempotencyKeys.userId, ids.userId), eq(idempotencyKeys.scope, ids.scope), eq(idempotencyKeys.key, ids.key)));
		if (prior.requestHash !== requestHash) {
			throw new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request body.');
		}
		return { status: prior.responseStatus, body: prior.responseBody as Record<string, unknown>, replayed: true };
	}
	const response = await effect();
	await tx
		.update(idempotencyKeys)
		.set({ responseStatus: response.status, responseBody: response.body })
		.where(and(eq(idempotencyKeys.userId, ids.userId), eq(idempotencyKeys.scope, ids.scope), eq(idempotencyKeys.key, ids.key)));
	return { ...response, replayed: false };
}
