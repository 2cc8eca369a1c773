// Text → RGBA with any model that follows docs/model-format.md. Runtime-agnostic: the caller
// hands in its onnxruntime flavour (node, web/wasm, web/webgpu) through DiffusionRuntime.
import type { InferenceSession, Tensor, TensorConstructor } from 'onnxruntime-common';
import type { ModelManifest } from '../schemas/manifest';
import type { ModelAssets } from './manifest';
import { createRng } from './rng';
import { createScheduler } from './schedulers';
import { createTokenizer, type PromptTokenizer } from './tokenizer';
import { calibrationLatent, LatentRgbFit, latentPreview, type Preview } from './preview';
import { blockAverage, fromRgba, toRgba } from './pixels';
import { STRENGTH_RANGE, variationSteps } from '../schemas/cost';

export type { Preview } from './preview';
export type SessionPart = 'textEncoder' | 'unet' | 'vaeDecoder' | 'vaeEncoder';

export interface DiffusionRuntime {
	Tensor: TensorConstructor;
	createSession(model: Uint8Array, part: SessionPart): Promise<InferenceSession>;
}

interface OrtModule {
	Tensor: TensorConstructor;
	InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
}

/** Adapts an `onnxruntime-node` / `onnxruntime-web` module import. */
export function runtimeFromOrt(ort: OrtModule, options?: InferenceSession.SessionOptions): DiffusionRuntime {
	return { Tensor: ort.Tensor, createSession: (model) => ort.InferenceSession.create(model, options) };
}

export interface GenerateRequest {
	prompt: string;
	negativePrompt?: string;
	width: number;
	height: number;
	steps: number;
	guidance: number;
	/** uint32 */
	seed: number;
	/** A variation (img2img): this picture (RGBA, width × height) noised to `strength`, then denoised. */
	variation?: VariationInput;
}

export interface VariationInput {
	rgba: Uint8Array | Uint8ClampedArray;
	/** 0.1–0.9: the share of the schedule re-run (STRENGTH_RANGE). */
	strength: number;
}

export interface Progress {
	/** 1-based: step k of total has just finished. */
	step: number;
	total: number;
	preview?: Preview;
}

export interface GenerateOptions {
	signal?: AbortSignal;
	/** Awaited, so a slow consumer slows the loop rather than piling up previews. */
	onProgress?: (p: Progress) => void | Promise<void>;
	/**
	 * Attach a small preview (one pixel per latent cell) to the first step's progress call
	 * and then at most every `previewEveryMs` (never the last step: the image follows).
	 */
	preview?: boolean;
	/** Default 1000 ms: each preview costs one decode of a quarter-size image (~50 ms at 512² on CPU). */
	previewEveryMs?: number;
	/** Replaces the seeded initial noise: for cross-checks against a reference sampler. */
	initialNoise?: Float32Array;
}

export interface Timings {
	totalMs: number;
	/** Sum of the session.run calls alone: what the pipeline adds is totalMs - sessionMs. */
	sessionMs: number;
	textMs: number;
	unetMs: number[];
	decodeMs: number;
}

export interface GenerateResult {
	width: number;
	height: number;
	rgba: Uint8ClampedArray;
	timings: Timings;
}

const EMBED_CACHE = 8;

export class DiffusionPipeline {
	readonly manifest: ModelManifest;
	readonly tokenizer: PromptTokenizer;
	#rt: DiffusionRuntime;
	#te: InferenceSession;
	#unet: InferenceSession;
	#vae: InferenceSession;
	#encoder: InferenceSession | null;
	// "" (the unconditional prompt) and recent prompts are re-encoded on every job otherwise.
	#embeds = new Map<string, Float32Array>();
	#rgbFit: LatentRgbFit;
	#sessionMs = 0;

	private constructor(m: ModelManifest, rt: DiffusionRuntime, tok: PromptTokenizer, s: InferenceSession[], encoder: InferenceSession | null) {
		this.manifest = m;
		this.#rt = rt;
		this.tokenizer = tok;
		[this.#te, this.#unet, this.#vae] = s;
		this.#encoder = encoder;
		this.#rgbFit = new LatentRgbFit(m.latent.channels);
	}

	static async create(manifest: ModelManifest, assets: ModelAssets, runtime: DiffusionRuntime): Promise<DiffusionPipeline> {
		const tok = createTokenizer(assets.tokenizer, manifest.tokenizer);
		// One at a time: on the browser's WASM backend parallel creation only contends.
		const te = await runtime.createSession(assets.textEncoder, 'textEncoder');
		const unet = await runtime.createSession(assets.unet, 'unet');
		const vae = await runtime.createSession(assets.vaeDecoder, 'vaeDecoder');
		const encoder = assets.vaeEncoder && manifest.io.vaeEncoder ? await runtime.createSession(assets.vaeEncoder, 'vaeEncoder') : null;
		return new DiffusionPipeline(manifest, runtime, tok, [te, unet, vae], encoder);
	}

	/** Whether this model can make variations (its manifest lists a VAE encoder). */
	get canVary(): boolean {
		return this.#encoder !== null;
	}

	async release(): Promise<void> {
		await Promise.all([this.#te.release(), this.#unet.release(), this.#vae.release(), this.#encoder?.release()]);
	}

	async #run(s: InferenceSession, feeds: Record<string, Tensor>, output: string): Promise<Tensor> {
		const t0 = performance.now();
		const out = await s.run(feeds);
		this.#sessionMs += performance.now() - t0;
		const t = out[output];
		if (!t) throw new Error(`model output ${output} missing (has ${Object.keys(out).join(', ')})`);
		return t;
	}

	async #embed(text: string): Promise<Float32Array> {
		const hit = this.#embeds.get(text);
		if (hit) return hit;
		const m = this.manifest;
		const ids = this.tokenizer.encode(text);
		const type = m.io.textEncoder.inputs.input_ids?.type ?? 'int32';
		const data = type === 'int64' ? BigInt64Array.from(ids, BigInt) : Int32Array.from(ids);
		const out = await this.#run(this.#te, { input_ids: new this.#rt.Tensor(data, [1, ids.length]) }, 'last_hidden_state');
		const emb = Float32Array.from(out.data as Float32Array);
		if (this.#embeds.size >= EMBED_CACHE) this.#embeds.delete(this.#embeds.keys().next().value as string);
		this.#embeds.set(text, emb);
		return emb;
	}

	#check(req: GenerateRequest): void {
		const m = this.manifest;
		if (!m.sizes.some(([w, h]) => w === req.width && h === req.height)) throw new RangeError(`size ${req.width}x${req.height} not offered by ${m.id}`);
		if (!Number.isFinite(req.guidance)) throw new RangeError('guidance must be finite');
		if (!Number.isInteger(req.steps) || req.steps < 1) throw new RangeError('steps must be a positive integer');
		const v = req.variation;
		if (v) {
			if (!this.#encoder) throw new RangeError(`${m.id} has no VAE encoder: it can't make variations`);
			if (!(v.strength >= STRENGTH_RANGE[0] && v.strength <= STRENGTH_RANGE[1])) throw new RangeError(`strength must be within ${STRENGTH_RANGE.join('–')}`);
			if (v.rgba.length !== req.width * req.height * 4) throw new RangeError(`the input image must be ${req.width}×${req.height}`);
		}
	}

	/**
	 * The input picture's latents, scaled as the UNet sees them (× latent.scale, the inverse of
	 * the decode). An encoder that gives the distribution's mean and log-variance (2C channels,
	 * SD's exports) contributes its mean: sampling would make the variation depend on the backend.
	 */
	async #encode(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, n: number): Promise<Float32Array> {
		const m = this.manifest, io = m.io.vaeEncoder!;
		const input = Object.keys(io.inputs)[0] ?? 'sample', output = Object.keys(io.outputs)[0] ?? 'latent_sample';
		const out = await this.#run(this.#encoder!, { [input]: new this.#rt.Tensor(fromRgba(rgba, width, height), [1, 3, height, width]) }, output);
		const data = out.data as Float32Array;
		if (data.length !== n && data.length !== 2 * n) throw new Error(`VAE encoder gave ${data.length} values, expected ${n} or ${2 * n}`);
		const latents = new Float32Array(n);
		for (let k = 0; k < n; k++) latents[k] = data[k] * m.latent.scale;
		return latents;
	}

	async generate(req: GenerateRequest, opts: GenerateOptions = {}): Promise<GenerateResult> {
		this.#check(req);
		const { signal, onProgress } = opts;
		const m = this.manifest, T = this.#rt.Tensor;
		const t0 = performance.now();
		this.#sessionMs = 0;
		signal?.throwIfAborted();

		const cfg = req.guidance > 1;
		const cond = await this.#embed(req.prompt);
		const uncond = cfg ? await this.#embed(req.negativePrompt ?? '') : undefined;
		const textMs = performance.now() - t0;
		const row = cond.length; // L × D values per batch row
		const batch = cfg ? 2 : 1;
		const ehs = new Float32Array(batch * row);
		if (uncond) (ehs.set(uncond, 0), ehs.set(cond, row));
		else ehs.set(cond, 0);
		const L = m.tokenizer.maxLength;
		const ehsTensor = new T(ehs, [batch, L, row / L]);

		const C = m.latent.channels, h = req.height / m.latent.downscale, w = req.width / m.latent.downscale;
		const n = C * h * w;
		const rng = createRng(req.seed);
		const sched = createScheduler(m.scheduler, req.steps);
		if (opts.initialNoise && opts.initialNoise.length !== n) throw new RangeError(`initialNoise needs ${n} values`);
		const noise = opts.initialNoise ? Float32Array.from(opts.initialNoise) : rng.normals(n);
		const steps = sched.timesteps.length;
		// A variation skips the first steps: its input, noised to the first step it runs, stands
		// in for pure noise (same seeded draw), so the same input, seed and strength repeat exactly.
		const first = req.variation ? steps - variationSteps(steps, req.variation.strength) : 0;
		let latents: Float32Array;
		if (req.variation) latents = sched.addNoise(await this.#encode(req.variation.rgba, req.width, req.height, n), noise, first);
		else {
			latents = noise;
			if (sched.initNoiseSigma !== 1) for (let k = 0; k < n; k++) latents[k] *= sched.initNoiseSigma;
		}
		const tsFloat = m.io.unet.inputs.timestep?.type === 'float32';
		const unetMs: number[] = [];
		const total = steps - first;
		let lastPreview = 0;

		for (let i = first; i < steps; i++) {
			signal?.throwIfAborted();
			const s0 = performance.now();
			const input = sched.scaleModelInput(latents, i);
			const sample = new Float32Array(batch * n);
			for (let b = 0; b < batch; b++) sample.set(input, b * n);
			const t = sched.timesteps[i];
			const timestep = tsFloat ? new T(new Float32Array(batch).fill(t), [batch]) : new T(new BigInt64Array(batch).fill(BigInt(t)), [batch]);
			const out = (await this.#run(this.#unet, { sample: new T(sample, [batch, C, h, w]), timestep, encoder_hidden_states: ehsTensor }, 'out_sample')).data as Float32Array;
			let guided: Float32Array;
			if (cfg) {
				guided = new Float32Array(n);
				const g = req.guidance;
				for (let k = 0; k < n; k++) guided[k] = out[k] + g * (out[n + k] - out[k]);
			} else guided = out;
			const { prev, x0 } = sched.step(guided, i, latents, rng);
			latents = prev;
			unetMs.push(performance.now() - s0);
			if (onProgress) {
				const due = i === first || performance.now() - lastPreview >= (opts.previewEveryMs ?? 1000);
				const preview = opts.preview && due && i + 1 < steps ? await this.#preview(x0, h, w) : undefined;
				if (preview) lastPreview = performance.now();
				await onProgress({ step: i - first + 1, total, preview });
			}
		}
		signal?.throwIfAborted();

		const d0 = performance.now();
		const scaled = new Float32Array(n);
		for (let k = 0; k < n; k++) scaled[k] = latents[k] / m.latent.scale;
		const img = await this.#run(this.#vae, { latent_sample: new T(scaled, [1, C, h, w]) }, 'sample');
		const rgba = toRgba(img.data as Float32Array, req.width, req.height);
		// Each finished image teaches the linear preview map what real latents look like.
		if (opts.preview && this.#rgbFit.pairs) this.#rgbFit.add(latents, h, w, img.data as Float32Array, req.height, req.width);
		const decodeMs = performance.now() - d0;
		return { width: req.width, height: req.height, rgba, timings: { totalMs: performance.now() - t0, sessionMs: this.#sessionMs, textMs, unetMs, decodeMs } };
	}

	/**
	 * A preview of the current clean estimate. Decoders that take any size decode it pooled
	 * 2× (a quarter of the pixels; exact colours, which a linear latent→RGB map is not for
	 * every VAE). Fixed-shape decoders (SD-Turbo exports) would cost a full decode, so they get
	 * the fitted linear map instead. Preview decodes are not counted as session time.
	 */
	async #preview(x0: Float32Array, h: number, w: number): Promise<Preview> {
		const m = this.manifest, C = m.latent.channels, T = this.#rt.Tensor;
		const shape = m.io.vaeDecoder.inputs.latent_sample?.shape ?? [];
		const fixed = typeof shape[2] === 'number' || typeof shape[3] === 'number';
		if (!fixed) {
			const f = h % 2 === 0 && w % 2 === 0 ? 2 : 1;
			const ph = h / f, pw = w / f;
			const pooled = new Float32Array(C * ph * pw);
			for (let c = 0; c < C; c++)
				for (let y = 0; y < h; y++)
					for (let x = 0; x < w; x++) pooled[(c * ph + Math.floor(y / f)) * pw + Math.floor(x / f)] += x0[(c * h + y) * w + x] / (f * f * m.latent.scale);
			const out = await this.#vae.run({ latent_sample: new T(pooled, [1, C, ph, pw]) });
			return blockAverage(out.sample.data as Float32Array, out.sample.dims[2], out.sample.dims[3], h, w);
		}
		if (!this.#rgbFit.map) {
			const lat = calibrationLatent(C, Number(shape[2]), Number(shape[3]));
			const out = await this.#vae.run({ latent_sample: new T(lat.map((v) => v / m.latent.scale), [1, C, Number(shape[2]), Number(shape[3])]) });
			this.#rgbFit.add(lat, Number(shape[2]), Number(shape[3]), out.sample.data as Float32Array, out.sample.dims[2], out.sample.dims[3]);
		}
		return latentPreview(this.#rgbFit.map!, x0, C, h, w);
	}
}
