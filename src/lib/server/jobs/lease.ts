import { createHash, randomBytes } from 'node:crypto';

// Lease TTL scales with work so a slow Island on a big image isn't robbed mid-run; every
// progress call extends it again, so it only has to cover the longest gap between steps.
// LEASE_FLOOR_MS / LEASE_CEILING_MS (env) shorten it for chaos runs, where killed Islands
// must be noticed in seconds.
export const LEASE_FLOOR_MS = Number(process.env.LEASE_FLOOR_MS) || 60_000;
const MS_PER_STEP_MEGAPIXEL = 30_000;
const LEASE_CEILING_MS = Number(process.env.LEASE_CEILING_MS) || 30 * 60_000;

export function leaseTtlMs(steps: number, pixels: number): number {
	const work = steps * (pixels / 1_000_000) * MS_PER_STEP_MEGAPIXEL;
	return Math.round(Math.min(LEASE_CEILING_MS, Math.max(LEASE_FLOOR_MS, work)));
}

/**
 * The token names its attempt, so a call carrying an older attempt's lease is recognisably
 * late (409) rather than forged (403). Only the hash is stored.
 */
export function leaseToken(attempt: number, secret: string) {
	return `lease_${attempt}_${secret}`;
}

export function leaseSecret() {
	return randomBytes(24).toString('base64url');
}

export function hashLease(token: string) {
	return createHash('sha256').update(token).digest('hex');
}

export function leaseAttempt(token: string): number | null {
	const m = /^lease_(\d{1,3})_[A-Za-z0-9_-]{32}$/.exec(token);
	return m ? Number(m[1]) : null;
}
