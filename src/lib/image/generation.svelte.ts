// One job as the requester watches it: submit, the SSE connection (with resume from the
// last event id), cancel and try again. The page reads the state and calls the methods;
// nothing else touches the EventSource.
import { describeJobFailure, requestFailure, requestParams, type Failure } from './failures';
import type { CompletedEvent, FailedEvent, JobStatus, JobView, ProgressEvent, StatusEvent } from '$lib/api/jobs';
import { verificationPending } from './verification';

export { describeJobFailure, requestParams, type Failure } from './failures';

export interface GenerationOptions {
	/** A job reached a terminal state or was submitted: balance and history changed. */
	onChange?: (job: JobView | null) => void;
	fetch?: typeof fetch;
	/** Delay before re-opening a closed stream; grows with each failed try. */
	reconnectDelayMs?: (attempt: number) => number;
}

const TERMINAL: JobStatus[] = ['completed', 'failed', 'cancelled'];

export function isTerminal(status: JobStatus | null | undefined) {
	return !!status && TERMINAL.includes(status);
}

export class Generation {
	job = $state<JobView | null>(null);
	status = $state<JobStatus | null>(null);
	position = $state(0);
	etaSeconds = $state<number | null>(null);
	islandsOnline = $state<number | null>(null);
	backend = $state<string | null>(null);
	step = $state(0);
	total = $state(0);
	preview = $state<string | null>(null);
	imageUrl = $state<string | null>(null);
	failure = $state<Failure | null>(null);
	/** "Keep waiting" hides the no-Islands notice for this job. */
	keepWaiting = $state(false);
	busy = $state<'submitting' | 'cancelling' | null>(null);
	/** The stream dropped and is being re-opened. */
	reconnecting = $state(false);

	#source: EventSource | null = null;
	#lastEventId = 0;
	#retryTimer: ReturnType<typeof setTimeout> | null = null;
	#retries = 0;
	#opts: GenerationOptions;
	#fetch: typeof fetch;

	constructor(opts: GenerationOptions = {}) {
		this.#opts = opts;
		// Called as a plain function: the browser's fetch refuses any `this` but the window.
		this.#fetch = opts.fetch ?? ((input, init) => fetch(input, init));
	}

	active = $derived(this.status === 'queued' || this.status === 'running');

	/** POST /api/jobs; on success the job is watched at once. */
	async submit(params: Record<string, unknown>): Promise<JobView | null> {
		this.busy = 'submitting';
		this.failure = null;
		try {
			const res = await this.#fetch('/api/jobs', {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ params })
			});
			if (res.status === 201) {
				const { job } = (await res.json()) as { job: JobView };
				this.attach(job);
				this.#opts.onChange?.(job);
				return job;
			}
			this.#reset(null);
			this.failure = await requestFailure(res, params);
			// A refusal can mean the page's view was stale (balance spent in another tab, KYC
			// revoked): let the page reload what it shows.
			this.#opts.onChange?.(null);
			return null;
		} catch {
			this.#reset(null);
			this.failure = { code: 'network', message: 'Could not reach the server. Check your connection, then try again. Nothing was charged.', refunded: 0, params };
			return null;
		} finally {
			this.busy = null;
		}
	}

	/**
	 * Shows a job (fresh, from the URL or from history) and follows it until it ends. A finished
	 * job whose check was still going when the page loaded it is read again: the stream ends at
	 * `completed`, so a later verdict (or a redrawn picture) reaches the page this way.
	 */
	attach(job: JobView) {
		this.#reset(job);
		this.#apply(job);
		if (!isTerminal(job.status)) this.#open();
		else if (job.status === 'completed' && verificationPending(job.verification)) void this.#refresh().catch(() => {});
	}

	/** "Try again": the failed request's params, resubmitted as they were. */
	retry() {
		const params = this.failure?.params ?? (this.job ? requestParams(this.job.params) : null);
		return params ? this.submit(params) : Promise.resolve(null);
	}

	async cancel() {
		const job = this.job;
		if (!job || !this.active) return;
		this.busy = 'cancelling';
		try {
			const res = await this.#fetch(`/api/jobs/${job.id}`, { method: 'DELETE' });
			if (res.ok) {
				this.#apply(((await res.json()) as { job: JobView }).job);
			} else {
				// 409: it finished meanwhile; show what it became.
				await this.#refresh();
			}
			this.#opts.onChange?.(this.job);
		} finally {
			this.busy = null;
		}
	}

	/** Reads the finished job again: its check may have ended (the stream doesn't follow that). */
	async recheck() {
		if (this.status === 'completed') await this.#refresh().catch(() => {});
	}

	/** Leaves the page: the stream closes, the job keeps going on the server. */
	dispose() {
		this.#close();
	}

	clear() {
		this.#reset(null);
		this.failure = null;
	}

	#reset(job: JobView | null) {
		this.#close();
		this.job = job;
		this.status = job?.status ?? null;
		this.#lastEventId = 0;
		this.#retries = 0;
		this.position = 0;
		this.etaSeconds = null;
		this.islandsOnline = null;
		this.backend = null;
		this.step = 0;
		this.total = 0;
		this.preview = null;
		this.imageUrl = null;
		this.keepWaiting = false;
		this.reconnecting = false;
		if (job) this.failure = null;
	}

	/** A full snapshot (GET /api/jobs/:id, DELETE's answer). */
	#apply(job: JobView) {
		this.job = job;
		this.status = job.status;
		if (job.progress) [this.step, this.total] = [job.progress.step, job.progress.total];
		if (job.status === 'completed') this.imageUrl = job.imageUrl;
		if (job.status === 'failed' || job.status === 'cancelled') this.#failed({
				status: job.status,
				failureCode: job.failureCode,
				reason: job.failureReason,
				attempts: job.attempts,
				refunded: job.refunded
			});
		if (isTerminal(job.status)) this.#close();
	}

	#failed(e: FailedEvent) {
		const job = this.job!;
		this.status = e.status;
		this.job = { ...job, status: e.status, failureCode: e.failureCode, failureReason: e.reason, attempts: e.attempts, refunded: e.refunded };
		this.failure =
			e.status === 'cancelled'
				? null
				: { code: 'job_failed', message: describeJobFailure(e), refunded: e.refunded, params: requestParams(job.params) };
	}

	#open() {
		const job = this.job;
		if (!job || typeof EventSource === 'undefined') return;
		// The query parameter carries the resume point on re-opens we make ourselves; the
		// browser's own reconnects send the Last-Event-ID header.
		const url = `/api/jobs/${job.id}/events${this.#lastEventId ? `?lastEventId=${this.#lastEventId}` : ''}`;
		const source = new EventSource(url);
		this.#source = source;
		const on = <T>(type: string, handle: (data: T) => void) =>
			source.addEventListener(type, (ev) => {
				const e = ev as MessageEvent<string>;
				if (this.#source !== source) return;
				const id = Number(e.lastEventId);
				if (Number.isFinite(id) && id > this.#lastEventId) this.#lastEventId = id;
				this.reconnecting = false;
				this.#retries = 0;
				handle(JSON.parse(e.data) as T);
			});
		on<StatusEvent>('status', (s) => {
			const requeued = this.status === 'running' && s.status === 'queued';
			this.status = s.status;
			this.position = s.position;
			this.etaSeconds = s.etaSeconds;
			this.islandsOnline = s.islandsOnline;
			if (s.backend !== undefined) this.backend = s.backend;
			if (requeued) [this.step, this.total, this.preview, this.backend] = [0, 0, null, null];
			if (this.job) this.job = { ...this.job, status: s.status, attempts: s.attempts };
		});
		on<ProgressEvent>('progress', (p) => {
			this.status = 'running';
			[this.step, this.total] = [p.step, p.total];
			if (p.preview) this.preview = p.preview;
		});
		on<CompletedEvent>('completed', (c) => {
			this.status = 'completed';
			this.imageUrl = c.imageUrl;
			if (this.job) this.job = { ...this.job, status: 'completed', imageUrl: c.imageUrl, cost: c.cost, verification: c.verification ?? this.job.verification };
			this.#close();
			this.#opts.onChange?.(this.job);
		});
		on<FailedEvent>('failed', (f) => {
			this.#failed(f);
			this.#close();
			this.#opts.onChange?.(this.job);
		});
		source.onerror = () => {
			if (this.#source !== source) return;
			// CONNECTING: the browser retries by itself (with Last-Event-ID). CLOSED: it gave up
			// (an HTTP error or 204), so we look at the job and re-open if it is still going.
			this.reconnecting = true;
			if (source.readyState === EventSource.CLOSED) {
				this.#close();
				const delay = (this.#opts.reconnectDelayMs ?? ((n) => Math.min(15_000, 1000 * 2 ** n)))(this.#retries++);
				this.#retryTimer = setTimeout(() => void this.#resume(job.id), delay);
			}
		};
	}

	async #resume(jobId: string) {
		if (this.job?.id !== jobId) return;
		const still = await this.#refresh().catch(() => true);
		if (this.job?.id === jobId && still && !isTerminal(this.status)) this.#open();
	}

	/** GET /api/jobs/:id; false when the job is gone. */
	async #refresh(): Promise<boolean> {
		const job = this.job;
		if (!job) return false;
		const res = await this.#fetch(`/api/jobs/${job.id}`);
		if (res.status === 404) {
			this.#close();
			return false;
		}
		if (res.status === 401) {
			// Logged out (another tab): stop retrying and say how to get back to this job.
			this.#close();
			this.reconnecting = false;
			this.failure = { code: 'unauthenticated', message: 'Your session ended. Log in again to follow this image.', refunded: 0, params: requestParams(job.params) };
			return false;
		}
		if (!res.ok) return true;
		const view = ((await res.json()) as { job: JobView }).job;
		if (this.job?.id !== view.id) return false;
		const was = this.status;
		this.#apply(view);
		this.reconnecting = false;
		if (isTerminal(view.status) && !isTerminal(was)) this.#opts.onChange?.(this.job);
		return true;
	}

	#close() {
		this.#source?.close();
		this.#source = null;
		if (this.#retryTimer) clearTimeout(this.#retryTimer);
		this.#retryTimer = null;
	}
}
