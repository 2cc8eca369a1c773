// Enough of EventSource to drive the /image page's state classes (Generation, JobBoard) in unit
// tests: the test emits events and errors by hand.
import type { JobView } from '../../src/lib/api/jobs';

export class FakeEventSource {
	static CONNECTING = 0;
	static OPEN = 1;
	static CLOSED = 2;
	static opened: FakeEventSource[] = [];
	readyState = FakeEventSource.OPEN;
	onerror: (() => void) | null = null;
	#listeners = new Map<string, ((e: MessageEvent) => void)[]>();
	constructor(readonly url: string) {
		FakeEventSource.opened.push(this);
	}
	addEventListener(type: string, fn: (e: MessageEvent) => void) {
		this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), fn]);
	}
	close() {
		this.readyState = FakeEventSource.CLOSED;
	}
	emit(type: string, id: number, data: unknown) {
		for (const fn of this.#listeners.get(type) ?? []) fn(new MessageEvent(type, { data: JSON.stringify(data), lastEventId: id ? String(id) : '' }));
	}
	fail() {
		this.readyState = FakeEventSource.CLOSED;
		this.onerror?.();
	}

	/** Installs it as the global EventSource, with no stream opened yet. */
	static install() {
		(globalThis as { EventSource?: unknown }).EventSource = FakeEventSource;
		FakeEventSource.opened = [];
	}

	/** The stream open now (the last one opened, unless closed). */
	static current() {
		const source = FakeEventSource.opened.at(-1);
		return source && source.readyState !== FakeEventSource.CLOSED ? source : null;
	}

	/** An event of one job on a several-jobs stream (GET /api/jobs/events?ids=…). */
	job(jobId: string, type: string, data: Record<string, unknown>) {
		this.emit(type, 0, { id: jobId, ...data });
	}
}

/** A job as the server shows it: queued, 10 credits, seed 9, its own batch unless told otherwise. */
export function jobFixture(over: Partial<JobView> = {}): JobView {
	const id = over.id ?? 'job1';
	return {
		id,
		status: 'queued',
		params: { prompt: 'a red circle', model: 'demo', width: 256, height: 256, steps: 4, seed: 9, guidance: 5 },
		cost: 10,
		tier: 'standard',
		attempts: 0,
		createdAt: '2026-01-01T00:00:00.000Z',
		startedAt: null,
		finishedAt: null,
		failureCode: null,
		failureReason: null,
		refunded: 0,
		imageUrl: null,
		imageDeletedAt: null,
		progress: null,
		verification: 'unchecked',
		batchId: id,
		batchIndex: 0,
		...over
	};
}
