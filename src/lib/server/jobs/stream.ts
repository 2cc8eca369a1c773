// GET /api/jobs/:id/events. Events are snapshots of the job: each carries the job's version
// as its id, so a reconnect with Last-Event-ID gets what changed since, and a late client
// gets the current state first. Wake-ups come from the event bus (any instance); a queued
// job's place in line comes from the shared QueueBoard, so an open stream costs no queries
// of its own while nothing happens to its job.
import { eq } from 'drizzle-orm';
import { islands, jobProgress, jobs } from '../db/schema';
import type { Broker } from './context';
import { islandsOnline } from './islands';
import { queueBoard, type QueueStats } from './queue-stats';
import { imageUrl, type JobRow } from './views';
import type { JobEvents } from '$lib/api';

const HEARTBEAT_MS = 15_000;

export const isTerminal = (status: JobRow['status']) => status === 'completed' || status === 'failed' || status === 'cancelled';

/** `onClose` runs once when the stream ends, whichever side ends it (the per-user cap's release). */
export function jobEventStream(broker: Broker, jobId: string, lastEventId: number, onClose: () => void = () => {}): ReadableStream<Uint8Array> {
	const encoder = new TextEncoder();
	let lastVersion = lastEventId;
	let lastStatusJson = '';
	let closed = false;
	let pending: Promise<void> = Promise.resolve();
	let queuedRefresh = false;
	let unwatchQueue: (() => void) | null = null;
	/** The job as last read: the queue board's ticks report against it. */
	let current: JobRow | null = null;
	const cleanups: (() => void)[] = [() => unwatchQueue?.(), onClose];
	const cleanUp = () => {
		for (const c of cleanups.splice(0)) c();
	};

	return new ReadableStream<Uint8Array>({
		start(controller) {
			const write = (text: string) => {
				if (!closed) controller.enqueue(encoder.encode(text));
			};
			const send = <K extends keyof JobEvents>(event: K, id: number, data: JobEvents[K]) => write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
			const close = () => {
				if (closed) return;
				closed = true;
				cleanUp();
				controller.close();
			};

			const refresh = async () => {
				if (closed) return;
				const [job] = await broker.db.select().from(jobs).where(eq(jobs.id, jobId));
				if (!job) return close();
				if (job.version > lastVersion) {
					lastVersion = job.version;
					await sendSnapshot(job);
					if (isTerminal(job.status)) return close();
				}
				current = job;
				if (closed) return;
				if (job.status === 'queued' && !unwatchQueue) {
					unwatchQueue = queueBoard(broker.db).watch(jobId, (stats) => current && sendStats(current, stats, null));
				} else if (job.status !== 'queued' && unwatchQueue) {
					unwatchQueue();
					unwatchQueue = null;
				}
			};

			const sendStats = (job: JobRow, stats: QueueStats, backend: string | null) => {
				if (closed) return;
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

			cleanups.push(broker.bus.subscribe((e) => e.type === 'job' && e.id === jobId && schedule()));
			const onClosing = () => close();
			broker.closing.addEventListener('abort', onClosing, { once: true });
			cleanups.push(() => broker.closing.removeEventListener('abort', onClosing));
			const heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
			cleanups.push(() => clearInterval(heartbeat));
			write('retry: 2000\n\n');
			schedule();
		},
		cancel() {
			closed = true;
			cleanUp();
		}
	});
}

async function islandBackend(broker: Broker, islandId: string) {
	const [row] = await broker.db.select({ backend: islands.backend }).from(islands).where(eq(islands.id, islandId));
	return row?.backend ?? null;
}
