import type { Hit } from './counter';

/** Past this many keys, expired refusals are swept; if still full, refusals are not memoised. */
const MAX_KEYS = 50_000;

/**
 * Remembers, in this process, which budgets the shared (PostgreSQL) counter has refused and
 * until when. A budget spent stays spent until its window ends, so counting the flood that
 * follows changes no answer: it would only cost a database round trip per refused request,
 * which is what a flood is made of (bench:abuse measured 2,000 refused event-stream
 * requests queueing on the pool ahead of honest ones). Other instances still count in the
 * database; the window's end is the database's, converted to this clock once.
 */
export class RefusalMemo {
	#until = new Map<string, { until: number; hit: Hit }>();

	/** The refusal still in force for `key`, with its seconds left; null when none. */
	refused(key: string, now = Date.now()): Hit | null {
		const memo = this.#until.get(key);
		if (!memo) return null;
		if (memo.until <= now) {
			this.#until.delete(key);
			return null;
		}
		return { ...memo.hit, allowed: false, remaining: 0, resetSeconds: Math.max(1, Math.ceil((memo.until - now) / 1000)) };
	}

	/** Records a counted answer: a refusal is remembered until its window ends. */
	note(key: string, hit: Hit, now = Date.now()) {
		if (hit.allowed) return;
		if (this.#until.size >= MAX_KEYS) {
			for (const [k, m] of this.#until) if (m.until <= now) this.#until.delete(k);
			if (this.#until.size >= MAX_KEYS) return;
		}
		this.#until.set(key, { until: now + hit.resetSeconds * 1000, hit });
	}
}
