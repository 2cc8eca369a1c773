import { scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { eq } from 'drizzle-orm';
import type { Queryable } from '../db';
import { users } from '../db/schema';
import { ApiError } from '../http';
import { envPositiveInt } from '../env';

// Argon2id at OWASP's first recommendation (19 MiB, 2 passes, 1 lane): ~25 ms of one core
// here, run on libuv's thread pool by the native binding, never on the event loop.
// algorithm 2 is Argon2id (the package's const enum can't be imported under verbatimModuleSyntax).
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const CURRENT_PREFIX = `$argon2id$v=19$m=${ARGON2.memoryCost},t=${ARGON2.timeCost},p=${ARGON2.parallelism}$`;

/**
 * At most this many hashes run at once and this many wait; beyond that the server is
 * busy (503). Without a bound, 400 concurrent sign-ups queued 400 hashes in front of every
 * login (11.6 s for a real one), and their memory with them.
 */
const MAX_RUNNING = envPositiveInt('PASSWORD_HASH_CONCURRENCY', 2);
const MAX_WAITING = envPositiveInt('PASSWORD_HASH_QUEUE', 64);
let running = 0;
const waiting: (() => void)[] = [];

async function bounded<T>(work: () => Promise<T>): Promise<T> {
	if (running >= MAX_RUNNING) {
		if (waiting.length >= MAX_WAITING) {
			throw new ApiError(503, 'busy', 'The server is busy checking passwords. Try again in a moment.', undefined, { 'retry-after': '2' });
		}
		await new Promise<void>((resolve) => waiting.push(resolve));
	} else running++;
	try {
		return await work();
	} finally {
		// Hand the slot straight to the next waiter (running stays the same), or free it.
		const next = waiting.shift();
		if (next) next();
		else running--;
	}
}

export function hashPassword(password: string): Promise<string> {
	return bounded(() => hash(password.normalize('NFKC'), ARGON2));
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
	if (stored.startsWith('$argon2')) return bounded(() => verify(stored, password.normalize('NFKC')).catch(() => false));
	if (stored.startsWith('scrypt$')) return bounded(() => verifyLegacyScrypt(password, stored));
	return false;
}

/** After a successful login: a hash made with older or weaker settings is replaced. */
export async function rehashIfWeak(tx: Queryable, userId: string, password: string, stored: string) {
	if (stored.startsWith(CURRENT_PREFIX)) return;
	await tx.update(users).set({ passwordHash: await hashPassword(password) }).where(eq(users.id, userId));
}

/** Accounts made before Argon2id (scrypt N=2^15) still log in, and are rehashed then. */
function verifyLegacyScrypt(password: string, stored: string): Promise<boolean> {
	const [, n, r, p, salt, key] = stored.split('$');
	if (!salt || !key) return Promise.resolve(false);
	const expected = Buffer.from(key, 'base64url');
	const params = { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 } satisfies ScryptOptions;
	return new Promise((resolve) =>
		scrypt(password.normalize('NFKC'), Buffer.from(salt, 'base64url'), expected.length, params, (err, actual) =>
			resolve(!err && actual.length === expected.length && timingSafeEqual(actual, expected))
		)
	);
}

/** A hash to compare against when the account doesn't exist, so timing doesn't reveal it. */
export const DUMMY_HASH = await hashPassword('not-a-real-password');
