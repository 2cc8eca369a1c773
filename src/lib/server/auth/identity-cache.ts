// Who a session cookie or API key is, remembered for a few seconds. Resolving it is a
// database read on every request, and on PGlite every read runs on the event loop: a burst of
// requests from one client (2,000 event-stream attempts) stalled the server for most of a
// second. A change that takes rights away forgets the user here at once (logout, a revoked
// key, a KYC decision, admin rights); another instance sharing PostgreSQL sees it within
// IDENTITY_CACHE_MS.
import { envPositiveInt } from '../env';

const TTL_MS = envPositiveInt('IDENTITY_CACHE_MS', 5_000);
const MAX_ENTRIES = 10_000;

interface Identity {
	user: { id: string };
	/** A session's own end: it is never remembered past it. */
	expiresAt?: Date;
}

interface Entry {
	value: Identity;
	until: number;
}

const entries = new Map<string, Entry>();

/** `load` once per TTL for `key`; unknown credentials (null) are never remembered. */
export async function cachedIdentity<T extends Identity>(key: string, load: () => Promise<T | null>): Promise<T | null> {
	const now = Date.now();
	const hit = entries.get(key);
	if (hit && hit.until > now) return hit.value as T;
	const value = await load();
	if (!value) {
		entries.delete(key);
		return null;
	}
	if (entries.size >= MAX_ENTRIES) {
		for (const [k, e] of entries) if (e.until <= now) entries.delete(k);
		if (entries.size >= MAX_ENTRIES) entries.clear();
	}
	entries.set(key, { value, until: Math.min(now + TTL_MS, value.expiresAt?.getTime() ?? Infinity) });
	return value;
}

/** Something about this user's rights changed: their next request reads the database again. */
export function forgetUser(userId: string): void {
	for (const [k, e] of entries) if (e.value.user.id === userId) entries.delete(k);
}
