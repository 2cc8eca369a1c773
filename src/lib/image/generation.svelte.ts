// One job as the requester watches it: its state from snapshots (the server's views) and
// from its events, cancel, and a failed job's words. The page's JobBoard (board.svelte.ts)
// submits, holds one of these per job it follows, and feeds them from one shared event stream.
import { describeJobFailure, requestParams, type Failure } from './failures';
import type { CompletedEvent, FailedEvent, JobEvents, JobStatus, JobView, ProgressEvent, StatusEvent } from '$lib/api/jobs';
import { verificationPending } from './verification';

export { describeJobFailure, requestParams, type Failure } from './failures';

export interface GenerationOptions {
	/** A job reached a terminal state: balance and history changed. */
	onChange?: (job: JobView | null) => void;
	fetch?: typeof fetch;
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
	busy = $state<'cancelling' | null>(null);
	/** Its events stopped coming and the stream is being re-opened. */
	reconnecting = $state(false);
	/** It can't be followed any more: gone (404), or the session ended (401). */
	lost = $state(false);

	#opts: GenerationOptions;
	#fetch: typeof fetch;

	constructor(opts: GenerationOptions = {}) {
		this.#opts = opts;
		// Called as a plain function: the browser's fetch refuses any `this` but the window.
		this.#fetch = opts.fetch ?? ((input, init) => fetch(input, init));
	}

	active = $derived(this.status === 'queued' || this.status === 'running');

	/**
	 * Shows a job (fresh, from the URL or from history); its events come through `receive`. A
	 * finished job whose check was still going when the page loaded it is read again: the
	 * stream ends at `completed`, so a later verdict (or a redrawn picture) reaches the page this way.
	 */
	attach(job: JobView) {
		this.#reset(job);
		this.#apply(job);
		if (job.status === 'completed' && verificationPending(job.verification)) void this.refresh().catch(() => {});
	}

	/** One event of the job (its stream's snapshot first, then each change); none after it ended. */
	receive<K extends keyof JobEvents>(event: K, data: JobEvents[K]) {
		if (isTerminal(this.status)) return;
		this.reconnecting = false;
		switch (event) {
			case 'status': {
				const s = data as StatusEvent;
				const requeued = this.status === 'running' && s.status === 'queued';
				this.status = s.status;
				this.position = s.position;
				this.etaSeconds = s.etaSeconds;
				this.islandsOnline = s.islandsOnline;
				if (s.backend !== undefined) this.backend = s.backend;
				if (requeued) [this.step, this.total, this.preview, this.backend] = [0, 0, null, null];
				if (this.job) this.job = { ...this.job, status: s.status, attempts: s.attempts };
				return;
			}
			case 'progress': {
				const p = data as ProgressEvent;
				this.status = 'running';
				[this.step, this.total] = [p.step, p.total];
				if (p.preview) this.preview = p.preview;
				return;
			}
			case 'completed': {
				const c = data as CompletedEvent;
				this.status = 'completed';
				this.imageUrl = c.imageUrl;
				if (this.job) this.job = { ...this.job, status: 'completed', imageUrl: c.imageUrl, cost: c.cost, verification: c.verification ?? this.job.verification };
				this.#opts.onChange?.(this.job);
				return;
			}
			case 'failed':
				this.#failed(data as FailedEvent);
				this.#opts.onChange?.(this.job);
		}
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
				await this.refresh();
			}
			this.#opts.onChange?.(this.job);
		} finally {
			this.busy = null;
		}
	}

	/** Reads the finished job again: its check may have ended (the stream doesn't follow that). */
	async recheck() {
		if (this.status === 'completed') await this.refresh().catch(() => {});
	}

	/** GET /api/jobs/:id (after the stream gave up, or to look again); false when the job can't be followed. */
	async refresh(): Promise<boolean> {
		const job = this.job;
		if (!job) return false;
		const res = await this.#fetch(`/api/jobs/${job.id}`);
		if (res.status === 404) {
			this.lost = true;
			return false;
		}
		if (res.status === 401) {
			// Logged out (another tab): stop following and say how to get back to this job.
			this.lost = true;
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

	#reset(job: JobView) {
		this.job = job;
		this.status = job.status;
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
		this.lost = false;
		this.failure = null;
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
}
