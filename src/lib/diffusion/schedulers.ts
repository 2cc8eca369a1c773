// Samplers with diffusers' conventions (see docs/model-format.md), so the demo model's
// Python sampler and SD-Turbo's published settings carry over unchanged.
import type { Rng } from './rng';

export interface SchedulerConfig {
	type: 'ddim' | 'turbo';
	prediction: 'epsilon' | 'v_prediction';
	trainTimesteps: number;
	betaSchedule: 'scaled_linear' | 'squaredcos_cap_v2';
	betaStart: number;
	betaEnd: number;
	stepsOffset?: number;
}

export interface StepResult {
	/** The sample for the next step (or the final latents after the last). */
	prev: Float32Array;
	/** The model's current estimate of the clean latents: what previews show. */
	x0: Float32Array;
}

export interface Scheduler {
	readonly timesteps: readonly number[];
	/** Multiplier of the unit-normal initial noise. */
	readonly initNoiseSigma: number;
	/** What the UNet sees at step i (Euler-family samplers rescale the sample). */
	scaleModelInput(sample: Float32Array, i: number): Float32Array;
	/** Clean latents noised to the level step i starts from (img2img: the input stands in for pure noise). */
	addNoise(clean: Float32Array, noise: Float32Array, i: number): Float32Array;
	step(modelOutput: Float32Array, i: number, sample: Float32Array, rng: Rng): StepResult;
}

export function betas(cfg: SchedulerConfig): Float64Array {
	const n = cfg.trainTimesteps;
	const out = new Float64Array(n);
	if (cfg.betaSchedule === 'scaled_linear') {
		// SD: linspace over sqrt(beta), squared.
		const a = Math.sqrt(cfg.betaStart), b = Math.sqrt(cfg.betaEnd);
		for (let i = 0; i < n; i++) out[i] = (a + ((b - a) * i) / (n - 1)) ** 2;
	} else {
		// Cosine schedule (Nichol & Dhariwal), max beta 0.999 so the last step is ~pure noise.
		const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
		for (let i = 0; i < n; i++) out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
	}
	return out;
}

export function alphasCumprod(cfg: SchedulerConfig): Float64Array {
	const b = betas(cfg);
	const out = new Float64Array(b.length);
	let p = 1;
	for (let i = 0; i < b.length; i++) out[i] = p *= 1 - b[i];
	return out;
}

/** DDIM `leading` spacing: t_i = floor(i * T / steps), descending, plus stepsOffset. */
export function ddimTimesteps(cfg: SchedulerConfig, steps: number): number[] {
	const ts: number[] = [];
	for (let i = steps - 1; i >= 0; i--) ts.push(Math.floor((i * cfg.trainTimesteps) / steps) + (cfg.stepsOffset ?? 0));
	return ts;
}

/** `trailing` spacing (SD-Turbo): 1 step → [999], 4 steps → [999, 749, 499, 249]. */
export function trailingTimesteps(cfg: SchedulerConfig, steps: number): number[] {
	const ts: number[] = [];
	const stride = cfg.trainTimesteps / steps;
	for (let k = 0; k < steps; k++) ts.push(Math.round(cfg.trainTimesteps - k * stride) - 1);
	return ts;
}

function checkSteps(cfg: SchedulerConfig, steps: number): void {
	if (!Number.isInteger(steps) || steps < 1 || steps > cfg.trainTimesteps) {
		throw new RangeError(`steps must be an integer in [1, ${cfg.trainTimesteps}], got ${steps}`);
	}
}

/** DDIM, eta 0 (deterministic given the initial noise). */
export function createDdim(cfg: SchedulerConfig, steps: number): Scheduler {
	checkSteps(cfg, steps);
	const ac = alphasCumprod(cfg);
	const timesteps = ddimTimesteps(cfg, steps);
	const v = cfg.prediction === 'v_prediction';
	return {
		timesteps,
		initNoiseSigma: 1,
		scaleModelInput: (sample) => sample,
		addNoise(clean, noise, i) {
			const a = ac[timesteps[i]];
			const sa = Math.sqrt(a), s1a = Math.sqrt(1 - a);
			const out = new Float32Array(clean.length);
			for (let k = 0; k < clean.length; k++) out[k] = sa * clean[k] + s1a * noise[k];
			return out;
		},
		step(out, i, x) {
			const a = ac[timesteps[i]];
			// set_alpha_to_one: the last step lands on the clean estimate itself.
			const aPrev = i + 1 < timesteps.length ? ac[timesteps[i + 1]] : 1;
			const sa = Math.sqrt(a), s1a = Math.sqrt(1 - a);
			const sp = Math.sqrt(aPrev), s1p = Math.sqrt(1 - aPrev);
			const prev = new Float32Array(x.length);
			const x0 = new Float32Array(x.length);
			for (let k = 0; k < x.length; k++) {
				let eps: number, pred: number;
				if (v) {
					pred = sa * x[k] - s1a * out[k];
					eps = sa * out[k] + s1a * x[k];
				} else {
					eps = out[k];
					pred = (x[k] - s1a * eps) / sa;
				}
				x0[k] = pred;
				prev[k] = sp * pred + s1p * eps;
			}
			return { prev, x0 };
		}
	};
}

/**
 * Euler ancestral with trailing spacing, as SD-Turbo is sampled. One step starts at t=999
 * and returns the clean estimate directly; more steps re-inject seeded noise.
 */
export function createTurbo(cfg: SchedulerConfig, steps: number): Scheduler {
	checkSteps(cfg, steps);
	const ac = alphasCumprod(cfg);
	const timesteps = trailingTimesteps(cfg, steps);
	const sigmas = timesteps.map((t) => Math.sqrt((1 - ac[t]) / ac[t]));
	sigmas.push(0);
	const v = cfg.prediction === 'v_prediction';
	return {
		timesteps,
		// diffusers: trailing spacing starts from sigma_max itself, not sqrt(sigma_max²+1).
		initNoiseSigma: sigmas[0],
		// Euler's samples are x0 + σ·noise (unscaled), as diffusers' add_noise for this family.
		addNoise(clean, noise, i) {
			const out = new Float32Array(clean.length);
			for (let k = 0; k < clean.length; k++) out[k] = clean[k] + sigmas[i] * noise[k];
			return out;
		},
		scaleModelInput(sample, i) {
			const c = 1 / Math.sqrt(sigmas[i] ** 2 + 1);
			const out = new Float32Array(sample.length);
			for (let k = 0; k < sample.length; k++) out[k] = sample[k] * c;
			return out;
		},
		step(out, i, x, rng) {
			const s = sigmas[i], to = sigmas[i + 1];
			const up = Math.sqrt((to * to * (s * s - to * to)) / (s * s));
			const down = Math.sqrt(to * to - up * up);
			const cOut = -s / Math.sqrt(s * s + 1), cSkip = 1 / (s * s + 1);
			const prev = new Float32Array(x.length);
			const x0 = new Float32Array(x.length);
			for (let k = 0; k < x.length; k++) {
				const pred = v ? out[k] * cOut + x[k] * cSkip : x[k] - s * out[k];
				x0[k] = pred;
				const d = (x[k] - pred) / s;
				prev[k] = x[k] + d * (down - s);
			}
			// No noise on the last step (up = 0), so one-step turbo draws nothing extra.
			if (up > 0) for (let k = 0; k < x.length; k++) prev[k] += rng.normal() * up;
			return { prev, x0 };
		}
	};
}

export function createScheduler(cfg: SchedulerConfig, steps: number): Scheduler {
	return cfg.type === 'turbo' ? createTurbo(cfg, steps) : createDdim(cfg, steps);
}
