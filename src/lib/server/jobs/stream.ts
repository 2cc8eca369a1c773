// GET /api/jobs/:id/events and /api/jobs/events?ids=…. Events are snapshots of the job: on a
// one-job stream each carries the job's version as its id, so a reconnect with Last-Event-ID
// gets what changed since, and a late client gets the current state first. Wake-ups come from
// the event bus (any instance); a queued job's place in line comes from the shared QueueBoard,
// so an open stream costs no queries of its own while nothing happens to its jobs.
import { eq } from 'drizzle-orm';
import { islands, jobProgress, jobs } from '../db/schema';
import type { Broker } from './context';
import { islandsOnline } from './islands';
import { queueBoard, type QueueStats } from './queue-stats';
import { imageUrl, type JobRow } from './views';
import type { JobEvents } from '$lib/api';

const HEARTBEAT_MS = 15_000;

export const isTerminal = (status: JobRow['status']) => status === 'completed' || status === 'failed' || status === 'cancelled';

/** One event of a job, with the job's version (the SSE id of a one-job stream). */
type Emit = <K extends keyof JobEvents>(event: K, version: number, data: JobEvents[K]) => void;

/**
 * Follows one job from `lastVersion`: its current state first (when newer), then each change.
 * `end` runs once the job is final (or gone). Returns a stop function.
 */
function followJob(broker: Broker, jobId: string, lastVersion: number, emit: Emit, end: () => void): () => void {
	let lastStatusJson = '';
	let stopped = false;
	let pending: Promise<void> = Promise.resolve();
	let queuedRefresh = false;
	let unwatchQueue: (() => void) | null = null;
	/** The job as last read: the queue board's ticks report against it. */
	let current: JobRow | null = null;
	const send: Emit = (event, version, data) => {
		if (!stopped) emit(event, version, data);
	};
	const finish = () => {
		if (stopped) return;
		stop();
		end();
	};

	const refresh = async () => {
		if (stopped) return;
		const [job] = await broker.db.select().from(jobs).where(eq(jobs.id, jobId));
		if (!job) return finish();
		if (job.version > lastVersion) {
			lastVersion = job.version;
			await sendSnapshot(job);
			if (isTerminal(job.status)) return finish();
		}
		current = job;
		if (stopped) return;
		if (job.status === 'queued' && !unwatchQueue) {
			unwatchQueue = queueBoard(broker.db).watch(jobId, (stats) => current && sendStats(current, stats, null));
		} else if (job.status !== 'queued' && unwatchQueue) {
			unwatchQueue();
			unwatchQueue = null;
		}
	};

	const sendStats = (job: JobRow, stats: QueueStats, backend: string | null) => {
		const data = { status: job.status, attempts: job.attempts, ...stats, backend };
		const json = JSON.stringify(data);
		if (json === lastStatusJson) return;
		lastStatusJson = json;
		send('status', job.version, data);
	};

	const sendSnapshot = async (job: JobRow) => {
		if (job.status === 'completed') return send('completed', job.version, { status: job.status, imageUrl: job.imageId ? imageUrl(job.imageId) : null, cost: job.cost, verification: job.verification });
		if (job.status === 'failed' || job.status === 'cancelled') {
			return send('failed', job.version, {
				status: job.status,
				failureCode: job.failureCode,
				reason: job.failureReason,
				attempts: job.attempts,
				refunded: job.refunded
			});
		}
		// A queued job's place in line comes from the shared board (one ranking for every
		// stream); the job just changed, so it ranks again now.
		if (job.status === 'queued') return void (unwatchQueue && queueBoard(broker.db).refreshSoon());
		// Running: no place in line; the requester sees what their image runs on (webgpu,
		// wasm, node), which explains the speed.
		const backend = job.islandId ? await islandBackend(broker, job.islandId) : null;
		sendStats(job, { position: 0, etaSeconds: null, islandsOnline: await islandsOnline(broker.db) }, backend);
		const [progress] = await broker.db.select().from(jobProgress).where(eq(jobProgress.jobId, job.id));
		if (progress) send('progress', job.version, { step: progress.step, total: progress.total, preview: progress.preview });
	};

	// Refreshes run one at a time, and a burst of wake-ups collapses into one more.
	const schedule = () => {
		if (queuedRefresh) return;
		queuedRefresh = true;
		pending = pending.then(() => {
			queuedRefresh = false;
			return refresh().catch((err) => console.error(`job ${jobId} events:`, err));
		});
	};

	const unsubscribe = broker.bus.subscribe((e) => e.type === 'job' && e.id === jobId && schedule());
	function stop() {
		if (stopped) return;
		stopped = true;
		unsubscribe();
		unwatchQueue?.();
	}
	schedule();
	return stop;
}

/**
 * An SSE body: `retry`, keep-alives, and an end when the server shuts down. `start` wires the
 * jobs it follows to `write` and returns their stop; `onClose` runs once when the stream ends,
 * whichever side ends it (the per-user cap's release).
 */
function sseStream(
	broker: Broker,
	start: (write: (text: string) => void, close: () => void) => () => void,
	onClose: () => void
): ReadableStream<Uint8Array> {
	const encoder = new TextEncoder();
	let closed = false;
	const cleanups: (() => void)[] = [onClose];
	const cleanUp = () => {
		for (const c of cleanups.splice(0).reverse()) c();
	};
	return new ReadableStream<Uint8Array>({
		start(controller) {
			const write = (text: string) => {
				if (!closed) controller.enqueue(encoder.encode(text));
			};
			const close = () => {
				if (closed) return;
				closed = true;
				cleanUp();
				controller.close();
			};
			const onClosing = () => close();
			broker.closing.addEventListener('abort', onClosing, { once: true });
			cleanups.push(() => broker.closing.removeEventListener('abort', onClosing));
			const heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
			cleanups.push(() => clearInterval(heartbeat));
			write('retry: 2000\n\n');
			cleanups.push(start(write, close));
		},
		cancel() {
			closed = true;
			cleanUp();
		}
	});
}

/** The response for an SSE body: no caching, and proxies (nginx) pass events through as they come. */
export function sseResponse(body: ReadableStream<Uint8Array>): Response {
	return new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' } });
}

const sse = (event: string, data: unknown, id?: number) => `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** GET /api/jobs/:id/events: one job, each event's id its version (resumable with Last-Event-ID). */
export function jobEventStream(broker: Broker, jobId: string, lastEventId: number, onClose: () => void = () => {}): ReadableStream<Uint8Array> {
	return sseStream(broker, (write, close) => followJob(broker, jobId, lastEventId, (event, version, data) => write(sse(event, data, version)), close), onClose);
}

/**
 * GET /api/jobs/events?ids=…: several jobs on one connection (a page following a batch and a
 * queue would otherwise hold a connection per job, and browsers open 6 per host over HTTP/1.1).
 * Each event's data carries its job's `id`; no event ids: a client re-opens it with the jobs
 * still going and gets their current state again. It ends once every job has.
 */
export function jobsEventStream(broker: Broker, jobIds: string[], onClose: () => void = () => {}): ReadableStream<Uint8Array> {
	return sseStream(
		broker,
		(write, close) => {
			let going = jobIds.length;
			const stops = jobIds.map((id) => followJob(broker, id, 0, (event, _version, data) => write(sse(event, { id, ...data })), () => --going === 0 && close()));
			return () => stops.forEach((stop) => stop());
		},
		onClose
	);
}

async function islandBackend(broker: Broker, islandId: string) {
	const [row] = await broker.db.select({ backend: islands.backend }).from(islands).where(eq(islands.id, islandId));
	return row?.backend ?? null;
}
