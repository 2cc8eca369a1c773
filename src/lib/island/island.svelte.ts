// The browser Island's one owner: it holds the inference worker and the broker client, runs
// register → heartbeat → claim → progress → result, and exposes state to /island. The page
// only reads these fields and calls the methods.
import * as Comlink from 'comlink';
import type { FileKey } from '../diffusion/manifest';
import { clearModels, storageUsage, type FileProgress, type StorageUsage } from './model-cache';
import { backoffMs, BrokerError, IslandClient, JobGoneError, type ClaimedJob } from './protocol';
import { WakeLock } from './wake-lock.svelte';
import type { Backend, GenerateJob, GenerateOutcome, IslandWorker, LoadResult } from './worker';

export type IslandStatus = 'idle' | 'loading' | 'ready' | 'working' | 'paused' | 'error';

export interface CurrentJob {
	id: string;
	prompt: string;
	width: number;
	height: number;
	step: number;
	total: number;
	previewUrl: string | null;
}

const MANIFEST_URL = '/models/demo/manifest.json';
const HEARTBEAT_MS = 30_000;
const PROGRESS_EVERY_MS = 250;
const MAX_PIXELS = 512 * 512;

const sleep = (ms: number, signal: AbortSignal) =>
	new Promise<void>((resolve) => {
		const t = setTimeout(resolve, ms);
		signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
	});

export class Island {
	status = $state<IslandStatus>('idle');
	message = $state('');
	backend = $state<Backend>('wasm');
	threads = $state(1);
	loaded = $state<LoadResult | null>(null);
	files = $state<Partial<Record<FileKey, FileProgress>>>({});
	usage = $state<StorageUsage | null>(null);
	job = $state<CurrentJob | null>(null);
	jobsDone = $state(0);
	creditsEarned = $state(0);
	wakeLock: WakeLock;

	#userId: string;
	#raw: Worker;
	#worker: Comlink.Remote<IslandWorker>;
	#client: IslandClient | null = null;
	#loop: AbortController | null = null;
	#running: Promise<void> | null = null;
	#claimed: ClaimedJob | null = null;
	#stopRequested = false;
	#lastEarned = 0;

	constructor(userId: string, worker: Worker) {
		this.#userId = userId;
		this.#raw = worker;
		this.#worker = Comlink.wrap<IslandWorker>(worker);
		this.wakeLock = new WakeLock();
		// A blocked worker script shows up only as an error event with no message.
		worker.addEventListener('error', () => this.#fail('The inference worker could not start (blocked script or missing cross-origin headers).'));
	}

	static create(userId: string): Island {
		return new Island(userId, new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'island-inference' }));
	}

	get working() {
		return this.status === 'working';
	}

	#fail(message: string) {
		this.status = 'error';
		this.message = message;
	}

	async refreshUsage() {
		this.usage = await storageUsage().catch(() => null);
	}

	/** Downloads (or reads from the local store) the model and creates the sessions. */
	async load(): Promise<LoadResult | null> {
		if (this.status === 'working' || this.status === 'paused') return this.loaded;
		this.status = 'loading';
		this.message = '';
		this.files = {};
		try {
			const url = new URL(MANIFEST_URL, location.origin).href;
			const result = await this.#worker.load({ manifestUrl: url, backend: this.backend, threads: this.threads }, Comlink.proxy((p: FileProgress) => (this.files = { ...this.files, [p.key]: p })));
			this.loaded = result;
			this.status = 'ready';
			await this.refreshUsage();
			return result;
		} catch (e) {
			this.loaded = null;
			this.#fail(`Loading the model failed: ${e instanceof Error ? e.message : String(e)}`);
			await this.refreshUsage();
			return null;
		}
	}

	async clearStorage() {
		await clearModels();
		await this.refreshUsage();
	}

	/** A local image, not from the broker: shows what this device does and how fast. */
	async testRun(job: GenerateJob): Promise<GenerateOutcome> {
		if (!this.loaded || this.loaded.backend !== this.backend) await this.load();
		if (!this.loaded) throw new Error(this.message);
		return this.#worker.generate(job);
	}

	/** Starts (or resumes) claiming jobs. */
	async start() {
		if (this.status === 'working') return;
		if (!this.loaded || this.loaded.backend !== this.backend) await this.load();
		if (!this.loaded) return;
		this.#stopRequested = false;
		this.status = 'working';
		this.message = '';
		this.#loop = new AbortController();
		void this.wakeLock.acquire();
		this.#running = this.#run(this.#loop.signal).catch((e) => this.#fail(e instanceof Error ? e.message : String(e)));
	}

	/** Finishes the current job, then claims nothing more until resume. */
	async pause() {
		if (this.status !== 'working') return;
		if (this.#claimed) this.message = 'Pausing after the current job…';
		this.#loop?.abort();
		await this.#running;
		this.status = 'paused';
		this.message = '';
		await this.wakeLock.release();
	}

	resume() {
		return this.start();
	}

	/** Hands the current job back at once (the broker re-dispatches it) and stops. */
	async stop() {
		this.#stopRequested = true;
		this.#loop?.abort();
		if (this.#claimed) await this.#worker.abort();
		await this.#running;
		this.status = this.loaded ? 'ready' : 'idle';
		await this.wakeLock.release();
	}

	/** Tab closing: tell the broker now so the job restarts elsewhere without waiting for the lease. */
	handOffOnUnload() {
		const job = this.#claimed;
		if (!job || !this.#client) return;
		this.#claimed = null; // once: pagehide and destroy() may both come
		void this.#client.fail(job, 'The volunteer closed the tab.').catch(() => {});
	}

	/** Leaving the page (even by an in-app link) ends the worker: hand any job back first. */
	destroy() {
		this.handOffOnUnload();
		this.#loop?.abort();
		void this.wakeLock.release();
		this.#worker[Comlink.releaseProxy]();
		this.#raw.terminate();
	}

	async #clientFor(): Promise<IslandClient> {
		if (this.#client) return this.#client;
		const key = `archipelago.island-token.${this.#userId}`;
		let token = localStorage.getItem(key);
		if (!token) {
			const res = await fetch('/api/islands', {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ name: `Browser Island (${this.backend === 'webgpu' ? 'WebGPU' : 'WASM'})`, backend: this.backend, models: [this.loaded!.model], maxPixels: MAX_PIXELS })
			});
			if (!res.ok) throw new Error(`Registering this Island failed: HTTP ${res.status}`);
			token = ((await res.json()) as { token: string }).token;
			localStorage.setItem(key, token);
		}
		const trackingFetch: typeof fetch = async (input, init) => {
			const url = String(input instanceof Request ? input.url : input);
			// keepalive lets the hand-back on tab close outlive the page (small JSON only).
			const res = await fetch(input, url.endsWith('/fail') ? { ...init, keepalive: true } : init);
			// The protocol client returns nothing from result(); the credits earned are in its body.
			if (res.ok && url.endsWith('/result')) this.#lastEarned = Number(((await res.clone().json()) as { earned?: number }).earned ?? 0);
			return res;
		};
		this.#client = new IslandClient({ url: location.origin, token, fetch: trackingFetch });
		return this.#client;
	}

	async #heartbeat(client: IslandClient) {
		try {
			await client.heartbeat({ backend: this.loaded!.backend, models: [this.loaded!.model], maxPixels: MAX_PIXELS });
		} catch (e) {
			this.#forgetRevokedToken(e);
			throw e;
		}
	}

	/** A token of an Island that no longer exists (401): the next round registers a fresh one. */
	#forgetRevokedToken(e: unknown) {
		if (e instanceof BrokerError && e.status === 401) {
			localStorage.removeItem(`archipelago.island-token.${this.#userId}`);
			this.#client = null;
		}
	}

	async #run(stop: AbortSignal) {
		let failures = 0, lastBeat = 0;
		while (!stop.aborted) {
			try {
				const client = await this.#clientFor();
				if (Date.now() - lastBeat > HEARTBEAT_MS) {
					await this.#heartbeat(client);
					lastBeat = Date.now();
				}
				const job = await client.claim(stop);
				failures = 0;
				this.message = '';
				if (job) await this.#work(client, job);
			} catch (e) {
				if (stop.aborted) break;
				this.#forgetRevokedToken(e);
				const wait = backoffMs(failures++);
				this.message = `Broker unreachable (${e instanceof Error ? e.message : String(e)}); retrying in ${Math.round(wait / 1000)} s.`;
				lastBeat = 0;
				await sleep(wait, stop);
			}
		}
	}

	async #work(client: IslandClient, job: ClaimedJob) {
		const p = job.params;
		this.#claimed = job;
		this.job = { id: job.id, prompt: p.prompt, width: p.width, height: p.height, step: 0, total: p.steps, previewUrl: null };
		let lastSent = 0, inFlight: Promise<void> | null = null, gone = false;
		const onStep = ({ step, total, preview }: { step: number; total: number; preview?: Uint8Array }) => {
			if (!this.job || gone) return;
			if (preview) {
				if (this.job.previewUrl) URL.revokeObjectURL(this.job.previewUrl);
				this.job.previewUrl = URL.createObjectURL(new Blob([preview.slice().buffer], { type: 'image/png' }));
			}
			this.job.step = step;
			this.job.total = total;
			// One post at a time, at most every 250 ms (the last step always): a live view for the
			// requester without the network pacing the denoising.
			const now = Date.now();
			if (inFlight || (step !== total && now - lastSent < PROGRESS_EVERY_MS)) return;
			lastSent = now;
			inFlight = client
				.progress(job, step, total, preview)
				.catch((e) => {
					// Cancelled by the requester or lease lost: stop computing for nobody.
					if (e instanceof JobGoneError) (gone = true), void this.#worker.abort();
				})
				.finally(() => (inFlight = null));
		};
		try {
			const out = await this.#worker.generate({ ...p, negativePrompt: p.negativePrompt ?? undefined }, Comlink.proxy(onStep));
			await inFlight;
			if (gone) return;
			this.#lastEarned = 0;
			await client.result(job, out.png);
			this.jobsDone++;
			this.creditsEarned += this.#lastEarned;
		} catch (e) {
			if (gone || e instanceof JobGoneError) return;
			const reason = this.#stopRequested ? 'The volunteer stopped the Island.' : e instanceof Error ? e.message : String(e);
			// If even this fails the lease expires and the broker re-dispatches: nothing is lost.
			await client.fail(job, reason).catch(() => {});
		} finally {
			if (this.job?.previewUrl) URL.revokeObjectURL(this.job.previewUrl);
			this.job = null;
			this.#claimed = null;
		}
	}
}
