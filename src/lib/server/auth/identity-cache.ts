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
/**
 * Loads in flight, shared: a cold burst (200 requests with one key at once) reads the database
 * once, not 200 times. Any change of rights empties it, so no request after the change joins a
 * load that began before it.
 */
let pending = new Map<string, Promise<Identity | null>>();

/** `load` once per TTL for `key`; unknown credentials (null) are never remembered. */
export async function cachedIdentity<T extends Identity>(key: string, load: () => Promise<T | null>): Promise<T | null> {
	const hit = entries.get(key);
	if (hit && hit.until > Date.now()) return hit.value as T;
	const inFlight = pending.get(key);
	if (inFlight) return (await inFlight) as T | null;
	const loads = pending;
	const loading = load().finally(() => {
		if (loads.get(key) === loading) loads.delete(key);
	});
	loads.set(key, loading);
	const value = await loading;
	// A change of rights while it loaded (forgetUser replaced `pending`): used once, not kept.
	if (!value || loads !== pending) {
		if (!value) entries.delete(key);
		return value;
	}
	const now = Date.now();
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
	pending = new Map();
}
