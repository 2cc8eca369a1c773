import type { Hit, Policy } from './counter';

/** Past this many keys, expired windows are swept before a new key is added. */
const SWEEP_ABOVE = 50_000;

/**
 * The same fixed windows as the database counter (a window starts at a key's first request),
 * kept in memory. For PGlite only: its data directory admits one server process, so that
 * process sees every request and needs no shared count, and on PGlite each database statement
 * runs on the event loop (two upserts per request were most of a refused request's cost).
 * Counts start again when the server restarts.
 */
export class MemoryCounter {
	#windows = new Map<string, { start: number; count: number }>();

	hit(key: string, policy: Policy, now = Date.now()): Hit {
		const span = policy.windowSeconds * 1000;
		let w = this.#windows.get(key);
		if (!w || w.start + span <= now) {
			if (!w && this.#windows.size >= SWEEP_ABOVE) this.#sweep(now);
			w = { start: now, count: 0 };
			this.#windows.set(key, w);
		}
		w.count++;
		return {
			allowed: w.count <= policy.limit,
			limit: policy.limit,
			remaining: Math.max(0, policy.limit - w.count),
			resetSeconds: Math.max(1, Math.ceil((w.start + span - now) / 1000)),
			windowSeconds: policy.windowSeconds
		};
	}

	#sweep(now: number) {
		// Windows are at most a day long (rate-limit/index.ts); anything older has ended.
		for (const [key, w] of this.#windows) if (w.start + 24 * 3600_000 <= now) this.#windows.delete(key);
	}
}
