// Every job the /image page follows: the request shown in the output panel (1–4 images) and
// the user's queue (their jobs in flight, from this tab or any other client). One Generation
// per job, shared by both views, all fed by one event stream (GET /api/jobs/events?ids=…):
// a stream per job would hold a connection each, and a browser opens only 6 per host over
// HTTP/1.1, for every tab together. Submitting goes through here too.
import { SvelteMap } from 'svelte/reactivity';
import { Generation, isTerminal, type GenerationOptions } from './generation.svelte';
import { requestFailure, requestParams, type Failure } from './failures';
import type { JobsStreamEvents, JobView, SubmitResponse } from '$lib/api/jobs';

export interface JobBoardOptions extends GenerationOptions {
	/** Delay before re-opening a stream the browser gave up on; grows with each failed try. */
	reconnectDelayMs?: (attempt: number) => number;
}

const EVENTS: (keyof JobsStreamEvents)[] = ['status', 'progress', 'completed', 'failed'];

/** Oldest first, each request's images in seed order: the order Islands take them in. */
const queueOrder = (a: Generation, b: Generation) => a.job!.createdAt.localeCompare(b.job!.createdAt) || a.job!.batchIndex - b.job!.batchIndex;

export class JobBoard {
	/** A refused submit (nothing was held); a failed job keeps its own failure. */
	failure = $state<Failure | null>(null);
	busy = $state<'submitting' | null>(null);

	#followed = new SvelteMap<string, Generation>();
	/** The shown request's job ids, in seed order. */
	#shownIds = $state<string[]>([]);
	#source: EventSource | null = null;
	/** The jobs the open stream carries. */
	#streamed = new Set<string>();
	#retryTimer: ReturnType<typeof setTimeout> | null = null;
	#retries = 0;
	#opts: JobBoardOptions;
	/** What each Generation gets: a job that ends may leave nothing in flight, and then the stream closes. */
	#generationOpts: GenerationOptions;
	#fetch: typeof fetch;

	constructor(opts: JobBoardOptions = {}) {
		this.#opts = opts;
		this.#generationOpts = {
			fetch: opts.fetch,
			onChange: (job) => {
				this.#stream();
				opts.onChange?.(job);
			}
		};
		// Called as a plain function: the browser's fetch refuses any `this` but the window.
		this.#fetch = opts.fetch ?? ((input, init) => fetch(input, init));
	}

	/** The shown request's images, in seed order. */
	shown = $derived(this.#shownIds.map((id) => this.#followed.get(id)).filter((g): g is Generation => !!g));
	/** Its id (its first job's), for the URL; null when nothing is shown. */
	batchId = $derived(this.shown[0]?.job?.batchId ?? null);
	/** The user's jobs in flight, oldest first. */
	queue = $derived([...this.#followed.values()].filter((g) => g.active).sort(queueOrder));

	/** A job as last seen: the followed one's live view, else the one given (the server's, from a load). */
	latest(job: JobView): JobView {
		const gen = this.#followed.get(job.id);
		return gen?.job && gen.status ? { ...gen.job, status: gen.status } : job;
	}

	/** Follows each job not followed yet (a job already followed keeps its stream). */
	follow(jobs: JobView[]) {
		for (const job of jobs) {
			if (this.#followed.has(job.id)) continue;
			const gen = new Generation(this.#generationOpts);
			gen.attach(job);
			this.#followed.set(job.id, gen);
		}
		this.#stream();
	}

	/** Shows a request (fresh, from the URL or from history); finished jobs no longer shown are let go. */
	show(jobs: JobView[]) {
		this.failure = null;
		this.follow(jobs);
		this.#shownIds = jobs.toSorted((a, b) => a.batchIndex - b.batchIndex).map((j) => j.id);
		for (const [id, gen] of this.#followed) {
			if (!this.#shownIds.includes(id) && isTerminal(gen.status)) this.#followed.delete(id);
		}
	}

	/** Shows nothing (the jobs in flight stay in the queue). */
	clear() {
		this.show([]);
	}

	/** POST /api/jobs for `count` images (seeds s, s+1, …); on success they are shown at once. */
	async submit(params: Record<string, unknown>, count = 1): Promise<JobView[] | null> {
		this.busy = 'submitting';
		this.failure = null;
		try {
			const res = await this.#fetch('/api/jobs', {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(count === 1 ? { params } : { params, count })
			});
			if (res.status === 201) {
				const { jobs } = (await res.json()) as SubmitResponse;
				this.show(jobs);
				this.#opts.onChange?.(jobs[0]);
				return jobs;
			}
			const failure = { ...(await requestFailure(res, params)), count };
			this.clear();
			this.failure = failure;
			// A refusal can mean the page's view was stale (balance spent in another tab, KYC
			// revoked, jobs queued elsewhere): let the page reload what it shows.
			this.#opts.onChange?.(null);
			return null;
		} catch {
			this.clear();
			this.failure = { code: 'network', message: 'Could not reach the server. Check your connection, then try again. Nothing was charged.', refunded: 0, params, count };
			return null;
		} finally {
			this.busy = null;
		}
	}

	/**
	 * "Try again": a failed job's recorded params (its seed too) as one image, or the refused
	 * request as it was sent.
	 */
	retry(gen?: Generation) {
		if (gen?.job) return this.submit(gen.failure?.params ?? requestParams(gen.job.params));
		return this.failure ? this.submit(this.failure.params, this.failure.count) : Promise.resolve(null);
	}

	/** Leaves the page: the stream closes, the jobs keep going on the server. */
	dispose() {
		this.#close();
	}

	/** The jobs in flight that can still be followed. */
	#going() {
		return [...this.#followed.values()].filter((g) => g.active && !g.lost);
	}

	/**
	 * Opens the stream for every job in flight when one isn't on it yet (a job that ends just
	 * drops out of the open stream: nothing to re-open, no request spent), and closes it when
	 * none is left.
	 */
	#stream() {
		const ids = this.#going().map((g) => g.job!.id);
		if (ids.length === 0) return this.#close();
		if (this.#source && ids.every((id) => this.#streamed.has(id))) return;
		this.#close();
		if (typeof EventSource === 'undefined') return;
		const source = new EventSource(`/api/jobs/events?ids=${ids.join(',')}`);
		this.#source = source;
		this.#streamed = new Set(ids);
		for (const type of EVENTS) {
			source.addEventListener(type, (ev) => {
				if (this.#source !== source) return;
				this.#retries = 0;
				const { id, ...data } = JSON.parse((ev as MessageEvent<string>).data) as JobsStreamEvents[typeof type];
				this.#followed.get(id)?.receive(type, data);
			});
		}
		source.onerror = () => {
			if (this.#source !== source) return;
			// CONNECTING: the browser retries by itself (each job's current state comes first
			// again). CLOSED: it gave up (an HTTP error, or 204 once all had ended), so we read
			// each job, then re-open for those still going.
			for (const gen of this.#going()) gen.reconnecting = true;
			if (source.readyState !== EventSource.CLOSED) return;
			this.#close();
			const delay = (this.#opts.reconnectDelayMs ?? ((n) => Math.min(15_000, 1000 * 2 ** n)))(this.#retries++);
			this.#retryTimer = setTimeout(() => void this.#resume(), delay);
		};
	}

	async #resume() {
		await Promise.all(this.#going().map((g) => g.refresh().catch(() => true)));
		this.#stream();
	}

	#close() {
		this.#source?.close();
		this.#source = null;
		this.#streamed.clear();
		if (this.#retryTimer) clearTimeout(this.#retryTimer);
		this.#retryTimer = null;
	}
}
