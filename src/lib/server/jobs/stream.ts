// GET /api/jobs/:id/events. Events are snapshots of the job: each carries the job's version
// as its id, so a reconnect with Last-Event-ID gets what changed since, and a late client
// gets the current state first. Wake-ups come from the event bus (any instance).
import { eq } from 'drizzle-orm';
import { islands, jobProgress, jobs } from '../db/schema';
import type { Broker } from './context';
import { queueStatus } from './queue-stats';
import { imageUrl, type JobRow } from './views';

const HEARTBEAT_MS = 15_000;
/** While queued, the place in line changes as others are served: re-checked this often. */
const QUEUE_TICK_MS = 2_000;

export const isTerminal = (status: JobRow['status']) => status === 'completed' || status === 'failed' || status === 'cancelled';

export function jobEventStream(broker: Broker, jobId: string, lastEventId: number): ReadableStream<Uint8Array> {
	const encoder = new TextEncoder();
	let lastVersion = lastEventId;
	let lastStatusJson = '';
	let closed = false;
	let pending: Promise<void> = Promise.resolve();
	let queuedRefresh = false;
	const cleanups: (() => void)[] = [];

	return new ReadableStream<Uint8Array>({
		start(controller) {
			const write = (text: string) => {
				if (!closed) controller.enqueue(encoder.encode(text));
			};
			const send = (event: string, id: number, data: unknown) => write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
			const close = () => {
				if (closed) return;
				closed = true;
				for (const c of cleanups) c();
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
				} else if (job.status === 'queued') {
					await sendStatus(job);
				}
			};

			const sendStatus = async (job: JobRow) => {
				const stats = await queueStatus(broker.db, job);
				// The requester sees what their image runs on (webgpu, wasm, node): it explains the speed.
				const backend = job.status === 'running' && job.islandId ? await islandBackend(broker, job.islandId) : null;
				const data = { status: job.status, attempts: job.attempts, ...stats, backend };
				const json = JSON.stringify(data);
				if (json === lastStatusJson) return;
				lastStatusJson = json;
				send('status', job.version, data);
			};

			const sendSnapshot = async (job: JobRow) => {
				if (job.status === 'completed') return send('completed', job.version, { status: job.status, imageUrl: imageUrl(job.imageId!), cost: job.cost });
				if (job.status === 'failed' || job.status === 'cancelled') {
					return send('failed', job.version, { status: job.status, reason: job.failureReason, refunded: job.refunded });
				}
				await sendStatus(job);
				if (job.status !== 'running') return;
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
			const tick = setInterval(schedule, QUEUE_TICK_MS);
			cleanups.push(() => clearInterval(heartbeat), () => clearInterval(tick));
			write('retry: 2000\n\n');
			schedule();
		},
		cancel() {
			closed = true;
			for (const c of cleanups) c();
		}
	});
}

async function islandBackend(broker: Broker, islandId: string) {
	const [row] = await broker.db.select({ backend: islands.backend }).from(islands).where(eq(islands.id, islandId));
	return row?.backend ?? null;
}
