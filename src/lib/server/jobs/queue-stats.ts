import { and, count, gt, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../db';
import { jobs } from '../db/schema';
import { islandsOnline } from './islands';
import { eqLiteral } from '../db/literal';

/** Throughput is measured over this recent window, so the ETA follows today's Islands. */
const WINDOW_S = 600;
/** While queued, the place in line changes as others are served: re-checked this often. */
const QUEUE_TICK_MS = 2_000;

export interface QueueStats {
	position: number;
	etaSeconds: number | null;
	islandsOnline: number;
}

/** Jobs completed per second lately (null: none finished in the window). */
async function recentRate(tx: Queryable): Promise<number | null> {
	const [recent] = await tx
		.select({ n: count(), since: sql<string | null>`min(${jobs.finishedAt})` })
		.from(jobs)
		.where(and(eqLiteral(jobs.status, 'completed'), gt(jobs.finishedAt, sql`now() - ${WINDOW_S} * interval '1 second'`)));
	if (recent.n === 0 || !recent.since) return null;
	// At least a minute of window, so one quick job doesn't promise an instant result.
	const span = Math.max(60, (Date.now() - new Date(recent.since).getTime()) / 1000);
	return recent.n / span;
}

/** Each watched queued job's place in its model's line (Islands pick jobs by model). */
async function positions(tx: Queryable, ids: string[]): Promise<Map<string, number>> {
	const rows = await tx.execute(sql`
		select id, position::int as position from (
			select ${jobs.id} as id, row_number() over (partition by ${jobs.model} order by ${jobs.createdAt}, ${jobs.id}) as position
			from ${jobs} where ${jobs.status} = 'queued') q
		where ${inArray(sql`q.id`, ids)}`);
	return new Map((rows.rows as { id: string; position: number }[]).map((r) => [r.id, Number(r.position)]));
}

function stats(position: number, rate: number | null, online: number): QueueStats {
	return { position, etaSeconds: rate ? Math.ceil(position / rate) : null, islandsOnline: online };
}

type Watcher = (stats: QueueStats) => void;

/**
 * The queued jobs that event streams watch, re-ranked together: one tick costs three
 * queries however many streams are open, instead of four queries per stream. A job that
 * leaves the queue is told by the event bus (its stream then stops watching).
 */
export class QueueBoard {
	#watchers = new Map<string, Set<Watcher>>();
	#timer: ReturnType<typeof setInterval> | null = null;
	#soon: ReturnType<typeof setTimeout> | null = null;
	#running = false;
	#again = false;

	constructor(
		private readonly db: Queryable,
		private readonly tickMs = QUEUE_TICK_MS
	) {}

	watch(jobId: string, watcher: Watcher): () => void {
		let set = this.#watchers.get(jobId);
		if (!set) this.#watchers.set(jobId, (set = new Set()));
		set.add(watcher);
		this.#timer ??= setInterval(() => void this.#tick(), this.tickMs);
		// A new watcher hears its place at once; a burst of them shares one ranking.
		this.refreshSoon();
		return () => {
			set.delete(watcher);
			if (set.size === 0) this.#watchers.delete(jobId);
			if (this.#watchers.size === 0 && this.#timer) {
				clearInterval(this.#timer);
				this.#timer = null;
			}
		};
	}

	get watched() {
		return this.#watchers.size;
	}

	/** Ranks again on the next turn of the event loop (a watched job changed, or a new watcher). */
	refreshSoon() {
		this.#soon ??= setTimeout(() => {
			this.#soon = null;
			void this.#tick(true);
		}, 0);
	}

	async #tick(asked = false) {
		// A slow database must not pile up ticks: one runs at a time, and a ranking asked for
		// meanwhile runs right after it.
		if (this.#running) {
			this.#again ||= asked;
			return;
		}
		if (this.#watchers.size === 0) return;
		this.#running = true;
		try {
			const ids = [...this.#watchers.keys()];
			const ranks = await positions(this.db, ids);
			const rate = await recentRate(this.db);
			const online = await islandsOnline(this.db);
			for (const [id, position] of ranks) {
				for (const watcher of this.#watchers.get(id) ?? []) watcher(stats(position, rate, online));
			}
		} catch (err) {
			console.error('queue board tick failed:', err);
		} finally {
			this.#running = false;
			if (this.#again) {
				this.#again = false;
				this.refreshSoon();
			}
		}
	}
}

const boards = new WeakMap<object, QueueBoard>();

/** One board per database (per broker), made on first use. */
export function queueBoard(db: Queryable): QueueBoard {
	let board = boards.get(db);
	if (!board) boards.set(db, (board = new QueueBoard(db)));
	return board;
}
