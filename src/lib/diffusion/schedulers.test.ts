import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRng } from './rng';
import { alphasCumprod, createDdim, createTurbo, ddimTimesteps, trailingTimesteps, type SchedulerConfig } from './schedulers';

// Computed by tools/scheduler-reference/make.py (numpy, diffusers' formulas).
const ref = JSON.parse(readFileSync(new URL('../../../tests/fixtures/scheduler-reference.json', import.meta.url), 'utf8'));

const cfg = (betaSchedule: SchedulerConfig['betaSchedule'], prediction: SchedulerConfig['prediction'] = 'epsilon', type: SchedulerConfig['type'] = 'ddim'): SchedulerConfig => ({
	type, prediction, trainTimesteps: 1000, betaSchedule, betaStart: 0.00085, betaEnd: 0.012, stepsOffset: 1
});

describe('betas and alphas_cumprod', () => {
	for (const s of ['scaled_linear', 'squaredcos_cap_v2'] as const) {
		it(`${s} matches the reference`, () => {
			const ac = alphasCumprod(cfg(s));
			for (const [i, v] of Object.entries(ref.alphasCumprod[s] as Record<string, number>)) {
				expect(ac[Number(i)]).toBeCloseTo(v, 12);
			}
		});
	}
	it('SD scaled_linear has its well-known end points', () => {
		const ac = alphasCumprod(cfg('scaled_linear'));
		expect(ac[0]).toBeCloseTo(1 - 0.00085, 12);
		expect(ac[999]).toBeCloseTo(0.00466, 5); // sqrt ≈ 0.068: SD's final signal level
	});
});

describe('DDIM', () => {
	it('uses leading spacing plus stepsOffset', () => {
		for (const [key, ts] of Object.entries(ref.ddimTimesteps as Record<string, number[]>)) {
			const [steps, off] = key.split('/').map(Number);
			expect(ddimTimesteps({ ...cfg('scaled_linear'), stepsOffset: off }, steps)).toEqual(ts);
		}
		expect(ddimTimesteps(cfg('scaled_linear'), 4)).toEqual([751, 501, 251, 1]);
	});

	it('steps match the reference for epsilon and v-prediction', () => {
		for (const r of ref.ddimStep) {
			const s = createDdim({ ...cfg(r.schedule, r.prediction), stepsOffset: r.offset }, r.steps);
			const { prev, x0 } = s.step(Float32Array.from(r.out), r.i, Float32Array.from(r.x), createRng(0));
			r.prev.forEach((v: number, k: number) => expect(prev[k]).toBeCloseTo(v, 5));
			r.x0.forEach((v: number, k: number) => expect(x0[k]).toBeCloseTo(v, 5));
		}
	});

	it('recovers a clean sample exactly when the model predicts the true noise', () => {
		// x_t = sqrt(a) x0 + sqrt(1-a) eps; a perfect eps prediction must walk back to x0.
		const c = cfg('scaled_linear');
		const ac = alphasCumprod(c);
		const s = createDdim(c, 8);
		const x0 = Float32Array.from([0.3, -0.7]), eps = Float32Array.from([1.2, -0.4]);
		const a = ac[s.timesteps[0]];
		let x: Float32Array = x0.map((v, k) => Math.sqrt(a) * v + Math.sqrt(1 - a) * eps[k]);
		for (let i = 0; i < s.timesteps.length; i++) x = s.step(eps, i, x, createRng(0)).prev;
		expect(x[0]).toBeCloseTo(0.3, 5);
		expect(x[1]).toBeCloseTo(-0.7, 5);
	});
});

describe('turbo (Euler ancestral, trailing)', () => {
	it('has trailing timesteps and SD sigma_max', () => {
		for (const [n, ts] of Object.entries(ref.turbo.timesteps as Record<string, number[]>)) {
			expect(trailingTimesteps(cfg('scaled_linear'), Number(n))).toEqual(ts);
		}
		const s = createTurbo(cfg('scaled_linear', 'epsilon', 'turbo'), 1);
		expect(s.timesteps).toEqual([999]);
		expect(s.initNoiseSigma).toBeCloseTo(ref.turbo.sigmaMax, 9);
		expect(s.initNoiseSigma).toBeCloseTo(14.6146, 3);
	});

	it('one step returns the clean estimate and scales the model input', () => {
		const s = createTurbo(cfg('scaled_linear', 'epsilon', 'turbo'), 1);
		const x = Float32Array.from(ref.turbo.oneStep.x);
		expect(s.scaleModelInput(x, 0)[2]).toBeCloseTo(2 * ref.turbo.scaleModelInput, 6);
		const rng = createRng(1);
		const { prev } = s.step(Float32Array.from(ref.turbo.oneStep.out), 0, x, rng);
		ref.turbo.oneStep.prev.forEach((v: number, k: number) => expect(prev[k]).toBeCloseTo(v, 4));
		// No noise drawn on the final step: the stream is untouched.
		expect(rng.next()).toBe(createRng(1).next());
	});
});

describe('addNoise (variations start from a noised input)', () => {
	const clean = Float32Array.from([0.5, -1]), noise = Float32Array.from([1, 2]);
	it('DDIM: sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·ε at the step it starts from', () => {
		const c = cfg('squaredcos_cap_v2', 'v_prediction');
		const s = createDdim({ ...c, stepsOffset: 1 }, 8);
		const a = alphasCumprod(c)[s.timesteps[4]];
		const x = s.addNoise(clean, noise, 4);
		expect(x[0]).toBeCloseTo(Math.sqrt(a) * 0.5 + Math.sqrt(1 - a), 6);
		expect(x[1]).toBeCloseTo(-Math.sqrt(a) + 2 * Math.sqrt(1 - a), 6);
	});
	it('turbo: x0 + σ·ε, so from nothing at step 0 it is the text-to-image start', () => {
		const s = createTurbo(cfg('scaled_linear', 'epsilon', 'turbo'), 2);
		const x = s.addNoise(new Float32Array(2), noise, 0);
		expect(x[1]).toBeCloseTo(2 * s.initNoiseSigma, 4);
		// A later step starts from less noise.
		expect(s.addNoise(clean, noise, 1)[0] - 0.5).toBeLessThan(x[0]);
	});
});
