// The headless Island: the shared IslandRunner (src/lib/island/runner.ts) on an engine that
// runs the pipeline in this process (onnxruntime-node, or a stand-in for chaos runs).
// Shutdown is cooperative: the first stop() lets the current job finish; a second one (or
// the grace timer) aborts it and hands it back to the broker with a reason.
import type { ModelManifest } from '../lib/schemas/manifest';
import { encodePng } from '../lib/diffusion/png';
import { decodeInputPng } from '../lib/diffusion/png-decode';
import type { DiffusionPipeline } from '../lib/diffusion/pipeline';
import { latentPreviewPng } from '../lib/island/preview-png';
import { IslandClient, type JobParams } from '../lib/island/protocol';
import { IslandRunner, type EngineStep, type IslandEngine } from '../lib/island/runner';

export interface ModelSource {
	id: string;
	load(): Promise<{ manifest: ModelManifest; pipeline: Pick<DiffusionPipeline, 'generate'> }>;
}

/** The models of this process, each loaded once on first use (or by warmUp). */
export class NodeEngine implements IslandEngine {
	#sources: ModelSource[];
	#loaded = new Map<string, ReturnType<ModelSource['load']>>();

	constructor(sources: ModelSource[]) {
		this.#sources = sources;
	}

	get modelIds() {
		return this.#sources.map((m) => m.id);
	}

	#model(id: string) {
		let p = this.#loaded.get(id);
		if (!p) {
			const src = this.#sources.find((m) => m.id === id);
			if (!src) throw new Error(`model ${id} is not available on this Island`);
			p = src.load();
			p.catch(() => this.#loaded.delete(id)); // a failed download may work next time
			this.#loaded.set(id, p);
		}
		return p;
	}

	/**
	 * Loads every model, one after another (one model's files in memory at a time). A model
	 * that fails to load is dropped, so the Island advertises only what it can run; it throws
	 * only when none loaded.
	 */
	async warmUp(log: (msg: string) => void = () => {}): Promise<void> {
		for (const src of [...this.#sources]) {
			try {
				await this.#model(src.id);
			} catch (e) {
				log(`model ${src.id} not offered: ${e instanceof Error ? e.message : e}`);
				this.#sources = this.#sources.filter((m) => m !== src);
			}
		}
		if (this.#sources.length === 0) throw new Error('no model could be loaded');
	}

	async generate(p: JobParams, onStep: (s: EngineStep) => void, signal: AbortSignal, input?: Uint8Array): Promise<Uint8Array> {
		const { pipeline } = await this.#model(p.model);
		if (p.variation && !input) throw new Error('a variation came without its input picture');
		const variation = p.variation && input ? { rgba: decodeInputPng(input, p.width, p.height), strength: p.variation.strength } : undefined;
		const request = { prompt: p.prompt, negativePrompt: p.negativePrompt ?? undefined, width: p.width, height: p.height, steps: p.steps, guidance: p.guidance, seed: p.seed, variation };
		const out = await pipeline.generate(request, {
			signal,
			preview: true,
			onProgress: (pr) => onStep({ step: pr.step, total: pr.total, preview: pr.preview ? latentPreviewPng(pr.preview) : undefined })
		});
		return encodePng(out.rgba, out.width, out.height, { ...p, negativePrompt: p.negativePrompt ?? undefined, strength: p.variation?.strength });
	}
}

export interface HeadlessIslandOptions {
	url: string;
	token: string;
	models: ModelSource[];
	maxPixels?: number;
	progressEveryMs?: number;
	heartbeatMs?: number;
	log?: (msg: string) => void;
	fetch?: typeof fetch;
}

export class HeadlessIsland {
	readonly client: IslandClient;
	readonly engine: NodeEngine;
	#runner: IslandRunner;
	#log: (msg: string) => void;
	#stopped = false;

	constructor(opts: HeadlessIslandOptions) {
		const log = opts.log ?? ((m: string) => console.log(`[island] ${m}`));
		this.#log = log;
		this.client = new IslandClient({ url: opts.url, token: opts.token, fetch: opts.fetch });
		this.engine = new NodeEngine(opts.models);
		const started = new Map<string, number>();
		this.#runner = new IslandRunner({
			client: async () => this.client,
			capabilities: () => ({ backend: 'node', models: this.engine.modelIds, maxPixels: opts.maxPixels ?? 512 * 512 }),
			engine: this.engine,
			heartbeatMs: opts.heartbeatMs,
			progressEveryMs: opts.progressEveryMs,
			log,
			onJobStart: (job) => {
				const p = job.params;
				started.set(job.id, Date.now());
				log(`job ${job.id}: ${p.model} ${p.width}x${p.height} ${p.steps} steps "${p.prompt.slice(0, 60)}"`);
			},
			onJobEnd: (job, outcome) => {
				if (outcome.kind === 'done') log(`job ${job.id}: done in ${Date.now() - (started.get(job.id) ?? Date.now())} ms`);
				started.delete(job.id);
			},
			onBrokerTrouble: (message) => message === null && log('connected')
		});
	}

	get busy() {
		return this.#runner.busy;
	}

	get jobsDone() {
		return this.#runner.jobsDone;
	}

	/** Loads every model up front so the first job doesn't pay for downloads. */
	warmUp() {
		return this.engine.warmUp(this.#log);
	}

	/** Runs until stop(); resolves once the last job has been finished or handed back. */
	run() {
		return this.#runner.run();
	}

	/** First call: finish the current job, then return from run(). Second call: hand it back now. */
	stop(reason = 'Island shutting down'): void {
		if (this.#stopped) return this.#runner.handBack(reason);
		this.#stopped = true;
		this.#runner.stop();
	}
}
