// The browser Island's inference worker: owns onnxruntime-web (imported here, not through
// ORT's proxy option, so one worker holds the sessions and the page stays responsive) and
// runs the shared pipeline unchanged, for every model the Island offers. The page talks to it
// through comlink (see island.svelte.ts).
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web';
import type { ModelManifest } from '../schemas/manifest';
import { publicModel, type PublicModel } from '../schemas/cost';
import { loadManifest } from '../diffusion/manifest';
import { DiffusionPipeline, runtimeFromOrt, type GenerateRequest, type Timings } from '../diffusion/pipeline';
import { encodePngAsync } from '../diffusion/png';
import { decodeInputPng } from '../diffusion/png-decode';
import { forgetModelsExcept, loadCachedModel, type FileProgress } from './model-cache';
import { latentPreviewPng } from './preview-png';
import { describeAdapterInfo, type GpuAdapterInfoLike } from './webgpu';

export type Backend = 'webgpu' | 'wasm';

export interface LoadRequest {
	/** Every model to offer, loaded one after another (one model's bytes in memory at a time). */
	manifestUrls: string[];
	backend: Backend;
	/** WASM threads; only honoured when the page is cross-origin isolated. */
	threads: number;
}

/** A model whose files were verified and whose sessions exist: the Island advertises it. */
export type LoadedModel = PublicModel & { version: string };

export interface LoadResult {
	models: LoadedModel[];
	/** Models that could not be loaded (not advertised), with why. */
	failed: { url: string; error: string }[];
	/** The execution provider the sessions were created with. */
	backend: Backend;
	/** Why the requested backend is not the one running, when they differ. */
	fallbackReason?: string;
	threads: number;
	crossOriginIsolated: boolean;
	adapter?: string;
	loadMs: number;
}

/**
 * What the page asks the worker to draw: the pipeline's request plus the model to use; a
 * variation's input picture as the broker sent it (PNG bytes, decoded here).
 */
export type GenerateJob = Omit<GenerateRequest, 'variation'> & { model: string; variation?: { strength: number; png: Uint8Array } };

export interface StepUpdate {
	step: number;
	total: number;
	/** A small PNG of the denoised estimate so far. */
	preview?: Uint8Array;
}

export interface GenerateOutcome {
	png: Uint8Array;
	width: number;
	height: number;
	backend: Backend;
	timings: Timings;
}

/**
 * Every loaded model's sessions, kept for the worker's life. Why not create them per job: the
 * built-in models are small (~10 MB each), a job's lease is short and WebGPU compiles its
 * shaders at session creation (seconds), and a model is advertised only once its sessions
 * exist, so the broker never hands this Island a model that cannot start here.
 */
const pipelines = new Map<string, { manifest: ModelManifest; pipeline: DiffusionPipeline }>();
let running: Backend | null = null;
let current: AbortController | null = null;

function configureWasm(threads: number): number {
	// The app's own copy (static/ort/, copied from node_modules at build), never a CDN.
	ort.env.wasm.wasmPaths = new URL('/ort/', self.location.origin).href;
	// Threads need SharedArrayBuffer, which only a cross-origin isolated context has;
	// ORT's own default is 1 thread on a 2-core machine, so it is set explicitly.
	const n = self.crossOriginIsolated ? Math.max(1, threads) : 1;
	ort.env.wasm.numThreads = n;
	ort.env.wasm.simd = true;
	return n;
}

/** The adapter ORT's WebGPU backend actually uses (its device knows; the page's may differ). */
async function adapterName(): Promise<string> {
	try {
		// A promise before the first WebGPU session, the device itself after (despite the types).
		const device = (await Promise.resolve(ort.env.webgpu.device)) as { adapterInfo?: GpuAdapterInfoLike } | undefined;
		return describeAdapterInfo(device?.adapterInfo);
	} catch {
		return 'unnamed adapter';
	}
}

async function createPipeline(m: ModelManifest, assets: Parameters<typeof DiffusionPipeline.create>[1], ep: Backend) {
	return DiffusionPipeline.create(m, assets, runtimeFromOrt(ort, { executionProviders: [ep], graphOptimizationLevel: 'all' }));
}

async function releaseAll() {
	for (const { pipeline } of pipelines.values()) await pipeline.release().catch(() => {});
	pipelines.clear();
	running = null;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

const api = {
	async load(req: LoadRequest, onFile?: (p: FileProgress) => void): Promise<LoadResult> {
		const t0 = performance.now();
		const threads = configureWasm(req.threads);
		await releaseAll();
		let backend: Backend = req.backend;
		let fallbackReason: string | undefined;
		const failed: LoadResult['failed'] = [];
		// One model at a time: its bytes are dropped once its sessions exist, so memory holds
		// one model's files at most, not all of them.
		for (const url of req.manifestUrls) {
			try {
				const m = await loadManifest(url);
				if (pipelines.has(m.id)) throw new Error(`${url} names model ${m.id} again`);
				const assets = await loadCachedModel(m, url, (p) => onFile?.(p));
				let pipeline: DiffusionPipeline;
				try {
					// WebGPU alone first: ORT throws when it has no adapter, which tells us which EP ran
					// (a list ['webgpu', 'wasm'] would fall back silently). Decided on the first model.
					pipeline = await createPipeline(m, assets, backend);
				} catch (e) {
					if (backend !== 'webgpu' || pipelines.size > 0) throw e;
					fallbackReason = `WebGPU could not start (${message(e)}); running on WASM instead.`;
					backend = 'wasm';
					pipeline = await createPipeline(m, assets, backend);
				}
				pipelines.set(m.id, { manifest: m, pipeline });
			} catch (e) {
				failed.push({ url, error: message(e) });
			}
		}
		if (pipelines.size === 0) throw new Error(failed.map((f) => f.error).join('; ') || 'no model to load');
		// Files of models no longer offered go, once every offered one loaded (see forgetModelsExcept).
		if (failed.length === 0) await forgetModelsExcept([...pipelines.keys()]).catch(() => {});
		running = backend;
		const adapter = backend === 'webgpu' ? await adapterName() : undefined;
		const models: LoadedModel[] = [...pipelines.values()].map(({ manifest: m }) => ({ ...publicModel(m), version: m.version }));
		return { models, failed, backend, fallbackReason, threads, crossOriginIsolated: self.crossOriginIsolated, adapter, loadMs: performance.now() - t0 };
	},

	async generate(job: GenerateJob, onStep?: (s: StepUpdate) => void): Promise<GenerateOutcome> {
		const loaded = pipelines.get(job.model);
		if (!loaded || !running) throw new Error(`model ${job.model} is not loaded here (${[...pipelines.keys()].join(', ') || 'none'} ${pipelines.size === 1 ? 'is' : 'are'})`);
		const { pipeline } = loaded;
		current?.abort();
		const ac = new AbortController();
		current = ac;
		try {
			const variation = job.variation ? { rgba: decodeInputPng(job.variation.png, job.width, job.height), strength: job.variation.strength } : undefined;
			const out = await pipeline.generate(
				{ prompt: job.prompt, negativePrompt: job.negativePrompt, width: job.width, height: job.height, steps: job.steps, guidance: job.guidance, seed: job.seed, variation },
				{
					signal: ac.signal,
					preview: !!onStep,
					// Not awaited: a slow page must not pace the denoising loop.
					onProgress: (p) => void onStep?.({ step: p.step, total: p.total, preview: p.preview ? latentPreviewPng(p.preview) : undefined })
				}
			);
			const png = await encodePngAsync(out.rgba, out.width, out.height, { ...job, strength: job.variation?.strength });
			return Comlink.transfer({ png, width: out.width, height: out.height, backend: running, timings: out.timings }, [png.buffer as ArrayBuffer]);
		} finally {
			if (current === ac) current = null;
		}
	},

	/** Stops the running generate() at its next step (it then rejects with AbortError). */
	abort(): void {
		current?.abort(new DOMException('stopped by the volunteer', 'AbortError'));
	}
};

export type IslandWorker = typeof api;
Comlink.expose(api);
