// The browser Island's one owner: it holds the inference worker and the broker client, runs
// the shared Island loop (runner.ts: heartbeat, claim, progress, result) on the worker, and
// exposes state to /island. The page only reads these fields and calls the methods.
import * as Comlink from 'comlink';
import type { FileKey } from '../diffusion/manifest';
import { clearModels, storageUsage, type FileProgress, type StorageUsage } from './model-cache';
import { BrokerError, IslandClient } from './protocol';
import { IslandRunner, type IslandEngine } from './runner';
import { IslandStanding } from './standing.svelte';
import { WakeLock } from './wake-lock.svelte';
import type { Backend, GenerateJob, GenerateOutcome, IslandWorker, LoadResult } from './worker';

/** `refused`: the broker turned this Island away (quarantined, owner not verified): see `standing`. */
export type IslandStatus = 'idle' | 'loading' | 'ready' | 'working' | 'paused' | 'error' | 'refused';

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
	readonly standing: IslandStanding;

	#userId: string;
	#raw: Worker;
	#worker: Comlink.Remote<IslandWorker>;
	#client: IslandClient | null = null;
	#runner: IslandRunner | null = null;
	#running: Promise<void> | null = null;
	#handedOff: string | null = null;

	constructor(userId: string, worker: Worker, owner: { verified: boolean; escrowWindowHours: number }) {
		this.#userId = userId;
		this.standing = new IslandStanding({ islandId: localStorage.getItem(this.#idKey), ...owner });
		this.#raw = worker;
		this.#worker = Comlink.wrap<IslandWorker>(worker);
		this.wakeLock = new WakeLock();
		// A blocked worker script shows up only as an error event with no message.
		worker.addEventListener('error', () => this.#fail('The inference worker could not start (blocked script or missing cross-origin headers).'));
	}

	static create(userId: string, owner: { verified: boolean; escrowWindowHours: number }): Island {
		return new Island(userId, new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'island-inference' }), owner);
	}

	get #tokenKey() {
		return `archipelago.island-token.${this.#userId}`;
	}

	/** The Island's id beside its token: GET /api/islands lists the owner's Islands by id. */
	get #idKey() {
		return `archipelago.island-id.${this.#userId}`;
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

	#capabilities() {
		return { backend: this.loaded!.backend, models: [this.loaded!.model], maxPixels: MAX_PIXELS };
	}

	/** This browser's Island token (registered once per user and browser), and a client for it. */
	async #clientFor(): Promise<IslandClient> {
		let token = localStorage.getItem(this.#tokenKey);
		if (!token) {
			const res = await fetch('/api/islands', {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ name: `Browser Island (${this.backend === 'webgpu' ? 'WebGPU' : 'WASM'})`, ...this.#capabilities() })
			});
			if (!res.ok) throw await registrationError(res);
			const body = (await res.json()) as { token: string; island: { id: string } };
			token = body.token;
			localStorage.setItem(this.#tokenKey, token);
			localStorage.setItem(this.#idKey, body.island.id);
			this.standing.setIsland(body.island.id);
			// A new Island starts on probation: show it now, not after its first job.
			void this.standing.refresh();
		}
		// A token kept from before ids were stored: its heartbeat answer names the Island.
		if (!localStorage.getItem(this.#idKey)) await this.#learnId(token).catch(() => {});
		this.#client = new IslandClient({ url: location.origin, token });
		return this.#client;
	}

	async #learnId(token: string) {
		const res = await fetch('/api/islands/heartbeat', {
			method: 'POST',
			headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
			body: JSON.stringify(this.#capabilities())
		});
		if (!res.ok) return;
		const id = ((await res.json()) as { island?: { id?: string } }).island?.id;
		if (!id) return;
		localStorage.setItem(this.#idKey, id);
		this.standing.setIsland(id);
		await this.standing.refresh();
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
			onUnauthorized: () => (localStorage.removeItem(this.#tokenKey), localStorage.removeItem(this.#idKey)),
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
				this.job = { id: job.id, prompt: p.prompt, width: p.width, height: p.height, step: 0, total: p.steps, previewUrl: null };
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

/** POST /api/islands refused: keep the broker's code, so a refusal (owner not verified) is told as one. */
async function registrationError(res: Response): Promise<BrokerError> {
	const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
	const message = body?.error?.message ?? `HTTP ${res.status}`;
	return new BrokerError(res.status, body?.error?.code ?? `http_${res.status}`, `Registering this Island failed: ${message}`, message);
}
