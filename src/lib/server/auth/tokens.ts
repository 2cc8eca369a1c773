import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** A bearer secret with a readable prefix (`ak_`, `isl_`, …): 256 random bits. */
export function newToken(prefix = ''): string {
	return prefix + randomBytes(32).toString('base64url');
}

/** Secrets are stored only as their hash, so a database leak can't be replayed. */
export function hashToken(token: string): string {
	return createHash('sha256').update(token).digest('hex');
}

export const newId = () => randomUUID();
