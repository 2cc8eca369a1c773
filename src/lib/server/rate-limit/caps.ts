import { ApiError } from '../http';
import { envPositiveInt } from '../env';

/** How much one account or Island may hold at once (streams and long-polls per server instance). */
export function capLimits(env: NodeJS.ProcessEnv = process.env) {
	return {
		// Jobs queued or running (database-wide; each image of a batch counts): submitJobs checks it.
		activeJobsPerUser: envPositiveInt('MAX_ACTIVE_JOBS_PER_USER', 4, env),
		streamsPerUser: envPositiveInt('MAX_STREAMS_PER_USER', 20, env),
		longPollsPerUser: envPositiveInt('MAX_LONG_POLLS_PER_USER', 50, env),
		longPollsPerIsland: envPositiveInt('MAX_LONG_POLLS_PER_ISLAND', 2, env),
		apiKeysPerUser: envPositiveInt('MAX_API_KEYS_PER_USER', 20, env),
		islandsPerUser: envPositiveInt('MAX_ISLANDS_PER_USER', 50, env)
	};
}

/**
 * Counts what each holder has open right now: event streams, long-polls. In memory: a
 * stream lives on one instance, so each instance caps what it holds (docs/security.md says so).
 */
class ConcurrencyCaps {
	#held = new Map<string, number>();

	/** Takes one slot of `key`, or throws 429 when `max` are taken; the release runs once. */
	acquire(key: string, max: number, what: string): () => void {
		const n = this.#held.get(key) ?? 0;
		if (n >= max) {
			throw new ApiError(429, 'too_many_open', `Too many ${what} open at once (at most ${max}). Close one and try again.`, undefined, {
				'retry-after': '5'
			});
		}
		this.#held.set(key, n + 1);
		let released = false;
		return () => {
			if (released) return;
			released = true;
			const left = (this.#held.get(key) ?? 1) - 1;
			if (left <= 0) this.#held.delete(key);
			else this.#held.set(key, left);
		};
	}

	/** Takes a slot of each key in turn; if one is full, the ones taken are given back. */
	acquireAll(slots: [key: string, max: number, what: string][]): () => void {
		const releases: (() => void)[] = [];
		try {
			for (const [key, max, what] of slots) releases.push(this.acquire(key, max, what));
		} catch (err) {
			releases.forEach((r) => r());
			throw err;
		}
		return () => releases.forEach((r) => r());
	}

	held(key: string) {
		return this.#held.get(key) ?? 0;
	}
}

export const concurrencyCaps = new ConcurrencyCaps();
