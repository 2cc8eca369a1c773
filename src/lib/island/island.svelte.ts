// The browser Island's one owner: it holds the inference worker and the broker client, runs
// the shared Island loop (runner.ts: heartbeat, claim, progress, result) on the worker, and
// exposes state to /island. The page only reads these fields and calls the methods. It offers
// every built-in model (src/lib/models/builtin.ts) and advertises exactly those that loaded.
import * as Comlink from 'comlink';
import { BUILTIN_MODEL_IDS, builtinManifestPath } from '../models/builtin';
import { clearModels, storageUsage, type FileProgress, type StorageUsage } from './model-cache';
import type { IslandClient } from './protocol';
import { IslandRegistration } from './registration';
import { IslandRunner, type IslandEngine } from './runner';
import { IslandStanding } from './standing.svelte';
import { WakeLock } from './wake-lock.svelte';
import type { Backend, GenerateJob, GenerateOutcome, IslandWorker, LoadResult } from './worker';

/** `refused`: the broker turned this Island away (quarantined, owner not verified): see `standing`. */
export type IslandStatus = 'idle' | 'loading' | 'ready' | 'working' | 'paused' | 'error' | 'refused';

export interface CurrentJob {
	id: string;
	model: string;
	prompt: string;
	width: number;
	height: number;
	step: number;
	total: number;
	previewUrl: string | null;
}

/** The built-in models' manifests, loaded in this order (the default model first). */
const MANIFEST_PATHS = BUILTIN_MODEL_IDS.map((id) => `/${builtinManifestPath(id)}`);
const HEARTBEAT_MS = 30_000;
const PROGRESS_EVERY_MS = 250;
const MAX_PIXELS = 512 * 512;

export class Island {
	status = $state<IslandStatus>('idle');
	message = $state('');
	backend = $state<Backend>('wasm');
	threads = $state(1);
	loaded = $state<LoadResult | null>(null);
	/** Download progress by `model/key`, every model's files in load order. */
	files = $state<Record<string, FileProgress>>({});
	usage = $state<StorageUsage | null>(null);
	job = $state<CurrentJob | null>(null);
	jobsDone = $state(0);
	creditsEarned = $state(0);
	wakeLock: WakeLock;
	readonly standing: IslandStanding;

	#registration: IslandRegistration;
	#raw: Worker;
	#worker: Comlink.Remote<IslandWorker>;
	#client: IslandClient | null = null;
	#runner: IslandRunner | null = null;
	#running: Promise<void> | null = null;
	#handedOff: string | null = null;

	constructor(userId: string, worker: Worker, owner: { verified: boolean; escrowWindowHours: number }) {
		this.standing = new IslandStanding({ islandId: null, ...owner });
		this.#registration = new IslandRegistration(userId, this.standing);
		const stored = this.#registration.storedId();
		if (stored) this.standing.setIsland(stored);
		this.#raw = worker;
		this.#worker = Comlink.wrap<IslandWorker>(worker);
		this.wakeLock = new WakeLock();
		// A blocked worker script shows up only as an error event with no message.
		worker.addEventListener('error', () => this.#fail('The inference worker could not start (blocked script or missing cross-origin headers).'));
	}

	static create(userId: string, owner: { verified: boolean; escrowWindowHours: number }): Island {
		return new Island(userId, new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'island-inference' }), owner);
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

	/** Every model's verified files (downloaded, or read from the local store) and sessions. */
	async load(): Promise<LoadResult | null> {
		if (this.status === 'working' || this.status === 'paused') return this.loaded;
		this.status = 'loading';
		this.message = '';
		this.files = {};
		try {
			const manifestUrls = MANIFEST_PATHS.map((path) => new URL(path, location.origin).href);
			const onFile = (p: FileProgress) => (this.files = { ...this.files, [`${p.model}/${p.key}`]: p });
			const result = await this.#worker.load({ manifestUrls, backend: this.backend, threads: this.threads }, Comlink.proxy(onFile));
			this.loaded = result;
			this.status = 'ready';
			await this.refreshUsage();
			return result;
		} catch (e) {
			this.loaded = null;
			this.#fail(`Loading the models failed: ${e instanceof Error ? e.message : String(e)}`);
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
		this.status = 'working';
		this.message = '';
		// Pressed again after a refusal: the broker decides afresh (an admin may have reinstated it).
		this.standing.refused(null);
		void this.standing.refresh();
		void this.wakeLock.acquire();
		const runner = this.#newRunner();
		this.#runner = runner;
		this.#running = runner
			.run()
			.then(() => {
				// Stopped by a refusal, not by pause/stop: say so; Start asks again.
				if (this.#runner === runner && this.standing.refusal && this.status === 'working') {
					this.status = 'refused';
					void this.wakeLock.release();
				}
			})
			.catch((e) => this.#fail(e instanceof Error ? e.message : String(e)));
	}

	/** Finishes the current job, then claims nothing more until resume. */
	async pause() {
		if (this.status !== 'working') return;
		if (this.#runner?.busy) this.message = 'Pausing after the current job…';
		this.#runner?.stop();
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
		this.#runner?.handBack('The volunteer stopped the Island.');
		await this.#running;
		this.status = this.loaded ? 'ready' : 'idle';
		await this.wakeLock.release();
	}

	/** Tab closing: tell the broker now so the job restarts elsewhere without waiting for the lease. */
	handOffOnUnload() {
		const job = this.#runner?.current;
		if (!job || !this.#client || this.#handedOff === job.id) return;
		this.#handedOff = job.id; // once: pagehide and destroy() may both come
		// keepalive: the request outlives the page that sends it.
		void this.#client.fail(job, 'The volunteer closed the tab.', { keepalive: true }).catch(() => {});
	}

	/** Leaving the page (even by an in-app link) ends the worker: hand any job back first. */
	destroy() {
		this.handOffOnUnload();
		this.#runner?.stop();
		void this.wakeLock.release();
		this.#worker[Comlink.releaseProxy]();
		this.#raw.terminate();
	}

	/** Exactly the models whose sessions exist in the worker: the broker sends only those. */
	#capabilities() {
		return { backend: this.loaded!.backend, models: this.loaded!.models.map((m) => m.id), maxPixels: MAX_PIXELS };
	}

	async #clientFor(): Promise<IslandClient> {
		this.#client = await this.#registration.client(this.#capabilities());
		return this.#client;
	}

	/** The shared Island loop on this tab's inference worker; the page's state follows its jobs. */
	#newRunner() {
		const engine: IslandEngine = {
			generate: async (params, onStep, signal, input) => {
				const onAbort = () => void this.#worker.abort();
				signal.addEventListener('abort', onAbort, { once: true });
				try {
					if (params.variation && !input) throw new Error('a variation came without its input picture');
					// The worker decodes the input: the page thread only passes the bytes on.
					const variation = params.variation && input ? { strength: params.variation.strength, png: input } : undefined;
					const job = { ...params, negativePrompt: params.negativePrompt ?? undefined, variation };
					const out = await this.#worker.generate(input ? Comlink.transfer(job, [input.buffer as ArrayBuffer]) : job, Comlink.proxy(onStep));
					return out.png;
				} finally {
					signal.removeEventListener('abort', onAbort);
				}
			}
		};
		return new IslandRunner({
			client: () => this.#clientFor(),
			capabilities: () => this.#capabilities(),
			engine,
			heartbeatMs: HEARTBEAT_MS,
			progressEveryMs: PROGRESS_EVERY_MS,
			// The Island was removed: the next round registers a fresh one.
			onUnauthorized: () => this.#registration.forget(),
			onBrokerTrouble: (message) => (this.message = message ?? ''),
			onRefused: (refusal) => {
				this.standing.refused(refusal);
				if (!refusal) return;
				// Not a connection problem: the standing panel says what it is and what to do.
				this.message = '';
				// A tab has no reason to keep asking: Start asks again once things changed.
				this.#runner?.stop();
			},
			onJobStart: (job) => {
				const p = job.params;
				this.job = { id: job.id, model: p.model, prompt: p.prompt, width: p.width, height: p.height, step: 0, total: p.steps, previewUrl: null };
			},
			onStep: (_job, { step, total, preview }) => {
				if (!this.job) return;
				if (preview) {
					if (this.job.previewUrl) URL.revokeObjectURL(this.job.previewUrl);
					this.job.previewUrl = URL.createObjectURL(new Blob([preview.slice().buffer], { type: 'image/png' }));
				}
				this.job.step = step;
				this.job.total = total;
			},
			onJobEnd: (_job, outcome) => {
				if (outcome.kind === 'done') {
					this.jobsDone++;
					this.creditsEarned += outcome.earned;
					// A passed test job moves probation on; earnings land in escrow.
					void this.standing.refresh();
				}
				if (this.job?.previewUrl) URL.revokeObjectURL(this.job.previewUrl);
				this.job = null;
			}
		});
	}
}
