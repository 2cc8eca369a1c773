import { describe, expect, it } from 'vitest';
import { demoManifest } from '../models/registry';
import { costOf, paramsSchemaFor, publicModel, tierOf, type PublicModel } from './generation';

const demo = publicModel(demoManifest);
const heavy: PublicModel = { ...demo, id: 'heavy', costWeight: 2 };
const middling: PublicModel = { ...demo, id: 'middling', costWeight: 1.37 };
// SD-Turbo's shape: one size, tiny step ranges.
const single: PublicModel = { id: 'one', name: 'One', sizes: [[512, 512]], steps: { standard: [1, 2], high: [3, 4], default: 1 }, guidance: { min: 0, max: 0, default: 0 }, costWeight: 2 };

const px = (m: PublicModel) => m.sizes.map(([w, h]) => w * h);
const smallest = (m: PublicModel) => m.sizes.find(([w, h]) => w * h === Math.min(...px(m)))!;
const largest = (m: PublicModel) => m.sizes.find(([w, h]) => w * h === Math.max(...px(m)))!;
const allSteps = (m: PublicModel) => {
	const out: number[] = [];
	for (let s = m.steps.standard[0]; s <= m.steps.high[1]; s++) if (tierOf(m, s)) out.push(s);
	return out;
};

describe('cost', () => {
	it('is exact at the corners of the tiers', () => {
		const [sw, sh] = smallest(demo);
		const [lw, lh] = largest(demo);
		expect(costOf(demo, { width: sw, height: sh, steps: demo.steps.standard[0] })).toEqual({ cost: 10, tier: 'standard' });
		expect(costOf(demo, { width: lw, height: lh, steps: demo.steps.standard[1] })).toEqual({ cost: 25, tier: 'standard' });
		expect(costOf(demo, { width: sw, height: sh, steps: demo.steps.high[0] })).toEqual({ cost: 25, tier: 'high' });
		expect(costOf(demo, { width: lw, height: lh, steps: demo.steps.high[1] })).toEqual({ cost: 50, tier: 'high' });
		// The top stays exact for a heavier model too.
		expect(costOf(heavy, { width: lw, height: lh, steps: heavy.steps.standard[1] }).cost).toBe(25);
		expect(costOf(heavy, { width: lw, height: lh, steps: heavy.steps.high[1] }).cost).toBe(50);
	});

	for (const model of [demo, middling, heavy, single]) {
		it(`is an integer in its tier's range and monotone in pixels and steps over the whole grid (${model.id})`, () => {
			const steps = allSteps(model);
			for (const [w, h] of model.sizes) {
				for (const s of steps) {
					const { cost, tier } = costOf(model, { width: w, height: h, steps: s });
					expect(Number.isInteger(cost)).toBe(true);
					const [lo, hi] = tier === 'standard' ? [10, 25] : [25, 50];
					expect(cost).toBeGreaterThanOrEqual(lo);
					expect(cost).toBeLessThanOrEqual(hi);
					for (const [w2, h2] of model.sizes) {
						for (const s2 of steps) {
							if (w2 * h2 >= w * h && s2 >= s) expect(costOf(model, { width: w2, height: h2, steps: s2 }).cost).toBeGreaterThanOrEqual(cost);
						}
					}
				}
			}
		});
	}

	it('is at least as high for a heavier model on every request', () => {
		for (const [w, h] of demo.sizes) {
			for (const s of allSteps(demo)) {
				const light = costOf(demo, { width: w, height: h, steps: s }).cost;
				const mid = costOf(middling, { width: w, height: h, steps: s }).cost;
				const hv = costOf(heavy, { width: w, height: h, steps: s }).cost;
				expect(mid).toBeGreaterThanOrEqual(light);
				expect(hv).toBeGreaterThanOrEqual(mid);
			}
		}
		expect(costOf(heavy, { width: smallest(heavy)[0], height: smallest(heavy)[1], steps: heavy.steps.standard[0] }).cost).toBeGreaterThan(10);
	});

	it('refuses steps outside both ranges', () => {
		expect(() => costOf(demo, { width: 256, height: 256, steps: demo.steps.high[1] + 1 })).toThrow(RangeError);
	});
});

describe('GenerationParams', () => {
	const schema = paramsSchemaFor([demo]);
	const [w, h] = smallest(demo);
	const ok = { prompt: 'a red circle', model: 'demo', width: w, height: h, steps: demo.steps.default };

	it('accepts a valid request and trims the prompt', () => {
		const r = schema.safeParse({ ...ok, prompt: '  a red circle ', seed: 0, guidance: demo.guidance.max });
		expect(r.success && r.data.prompt).toBe('a red circle');
	});

	it.each([
		['unknown fields', { ...ok, extra: 1 }],
		['empty prompt', { ...ok, prompt: '   ' }],
		['long prompt', { ...ok, prompt: 'x'.repeat(501) }],
		['long negative prompt', { ...ok, negativePrompt: 'x'.repeat(501) }],
		['unknown model', { ...ok, model: 'nope' }],
		['size not offered', { ...ok, width: w + 1 }],
		['steps out of range', { ...ok, steps: demo.steps.high[1] + 1 }],
		['fractional steps', { ...ok, steps: 4.5 }],
		['seed beyond uint32', { ...ok, seed: 2 ** 32 }],
		['negative seed', { ...ok, seed: -1 }],
		['guidance out of range', { ...ok, guidance: demo.guidance.max + 1 }],
		['string width', { ...ok, width: String(w) }]
	])('rejects %s', (_name, params) => {
		expect(schema.safeParse(params).success).toBe(false);
	});
});
