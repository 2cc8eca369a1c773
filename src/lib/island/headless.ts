// The headless Island: claim → generate → progress → result, forever, on onnxruntime-node.
// Shutdown is cooperative: the first stop() lets the current job finish; a second one (or
// the grace timer) aborts it and hands it back to the broker with a reason.
import type { ModelManifest } from '../schemas/manifest';
import { encodePng } from '../diffusion/png';
import { latentPreviewPng } from './preview-png';
import type { DiffusionPipeline, Progress } from '../diffusion/pipeline';
import { backoffMs, BrokerError, IslandClient, JobGoneError, type ClaimedJob } from './protocol';

export interface ModelSource {
	id: string;
	load(): Promise<{ manifest: ModelManifest; pipeline: DiffusionPipeline }>;
}

export interface HeadlessIslandOptions {
	url: string;
	token: string;
	models: ModelSource[];
	maxPixels?: number;
	/** Minimum gap between progress posts; the last step is always sent. */
	progressEveryMs?: number;
	log?: (msg: string) => void;
	fetch?: typeof fetch;
}

const sleep = (ms: number, signal?: AbortSignal) =>
	new Promise<void>((resolve) => {
		const t = setTimeout(resolve, ms);
		signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
	});

export class HeadlessIsland {
	readonly client: IslandClient;
	#opts: HeadlessIslandOptions;
	#log: (msg: string) => void;
	#pipelines = new Map<string, Promise<{ manifest: ModelManifest; pipeline: DiffusionPipeline }>>();
	#stopping = new AbortController(); // no new claims
	#job: AbortController | null = null; // the running job
	#current: ClaimedJob | null = null;
	jobsDone = 0;

	constructor(opts: HeadlessIslandOptions) {
		this.#opts = opts;
		this.#log = opts.log ?? ((m) => console.log(`[island] ${m}`));
		this.client = new IslandClient({ url: opts.url, token: opts.token, fetch: opts.fetch });
	}

	get busy(): boolean {
		return this.#current !== null;
	}

	#model(id: string) {
		let p = this.#pipelines.get(id);
		if (!p) {
			const src = this.#opts.models.find((m) => m.id === id);
			if (!src) throw new Error(`model ${id} is not available on this Island`);
			p = src.load();
			p.catch(() => this.#pipelines.delete(id)); // a failed download may work next time
			this.#pipelines.set(id, p);
		}
		return p;
	}

	/** Loads every model up front so the first job doesn't pay for downloads. */
	async warmUp(): Promise<void> {
		await Promise.all(this.#opts.models.map((m) => this.#model(m.id)));
	}

	async #heartbeat(): Promise<void> {
		await this.client.heartbeat({ backend: 'node', models: this.#opts.models.map((m) => m.id), maxPixels: this.#opts.maxPixels ?? 512 * 512 });
	}

	/** Runs until stop(); resolves once the last job has been finished or handed back. */
	async run(): Promise<void> {
		// On a timer, not between claims: a long job must not make the Island look offline.
		const beat = setInterval(() => void this.#heartbeat().catch(() => {}), 30_000);
		try {
			await this.#loop();
		} finally {
			clearInterval(beat);
		}
	}

	async #loop(): Promise<void> {
		const stop = this.#stopping.signal;
		let failures = 0;
		let beaten = false;
		while (!stop.aborted) {
			try {
				if (!beaten) {
					await this.#heartbeat();
					beaten = true;
				}
				const job = await this.client.claim(stop);
				if (failures > 0) this.#log('connected');
				failures = 0;
				if (job) await this.#work(job);
			} catch (e) {
				if (stop.aborted) break;
				if (e instanceof BrokerError && !e.retryable && e.status !== 401 && e.status !== 403) throw e;
				const wait = backoffMs(failures++);
				this.#log(`broker unreachable (${e instanceof Error ? e.message : String(e)}); retrying in ${wait} ms`);
				await sleep(wait, stop);
			}
		}
	}

	/** First call: finish the current job, then return from run(). Second call: hand it back now. */
	stop(reason = 'Island shutting down'): void {
		if (!this.#stopping.signal.aborted) {
			this.#stopping.abort();
			if (this.#current) this.#log(`stopping after job ${this.#current.id} (signal again to hand it back)`);
			return;
		}
		this.#job?.abort(new Error(reason));
	}

	async #work(job: ClaimedJob): Promise<void> {
		const ac = new AbortController();
		this.#job = ac;
		this.#current = job;
		const p = job.params;
		const t0 = Date.now();
		this.#log(`job ${job.id}: ${p.model} ${p.width}x${p.height} ${p.steps} steps "${p.prompt.slice(0, 60)}"`);
		try {
			const { pipeline } = await this.#model(p.model);
			let lastSent = 0;
			let inFlight: Promise<void> | null = null;
			const onProgress = (pr: Progress) => {
				const now = Date.now();
				const last = pr.step === pr.total;
				// One post at a time and at most every progressEveryMs: the broker gets a live
				// view without the network ever pacing the denoising loop.
				if (inFlight || (!last && now - lastSent < (this.#opts.progressEveryMs ?? 250))) return;
				lastSent = now;
				const png = pr.preview ? latentPreviewPng(pr.preview) : undefined;
				inFlight = this.client
					.progress(job, pr.step, pr.total, png)
					.catch((e) => {
						if (e instanceof JobGoneError) ac.abort(e);
						// Other progress errors are not fatal: the result call decides.
					})
					.finally(() => (inFlight = null));
			};
			const out = await pipeline.generate(
				{ prompt: p.prompt, negativePrompt: p.negativePrompt ?? undefined, width: p.width, height: p.height, steps: p.steps, guidance: p.guidance, seed: p.seed },
				{ signal: ac.signal, onProgress, preview: true }
			);
			await inFlight;
			const png = encodePng(out.rgba, out.width, out.height, { ...p, negativePrompt: p.negativePrompt ?? undefined });
			await this.#withRetry(() => this.client.result(job, png));
			this.jobsDone++;
			this.#log(`job ${job.id}: done in ${Date.now() - t0} ms`);
		} catch (e) {
			if (e instanceof JobGoneError || (ac.signal.aborted && ac.signal.reason instanceof JobGoneError)) {
				this.#log(`job ${job.id}: cancelled by the broker, dropped`);
				return;
			}
			const reason = e instanceof Error ? e.message : String(e);
			this.#log(`job ${job.id}: failed: ${reason}`);
			await this.#withRetry(() => this.client.fail(job, reason)).catch((err) => {
				// The lease will expire and the broker requeues it: nothing is lost.
				this.#log(`job ${job.id}: could not report failure (${err instanceof Error ? err.message : err})`);
			});
		} finally {
			this.#job = null;
			this.#current = null;
		}
	}

	/** A few quick retries for transient errors: the lease is still ours meanwhile. */
	async #withRetry(fn: () => Promise<void>): Promise<void> {
		for (let attempt = 0; ; attempt++) {
			try {
				return await fn();
			} catch (e) {
				const transient = !(e instanceof JobGoneError) && (!(e instanceof BrokerError) || e.retryable);
				if (!transient || attempt >= 4) throw e;
				await sleep(backoffMs(attempt, 5_000));
			}
		}
	}
}
