// Variations (img2img) through the real pipeline on onnxruntime-node: the tiny random models
// for the wiring (the demo-shaped set, and the SD-Turbo-shaped one whose encoder gives mean
// and log-variance), the real demo model for what a variation looks like.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyDemoManifest, tinyUrl } from '../../../tests/helpers/tiny-models';
import { scoreColours } from '../../../tests/helpers/colour-score';
import { loadNodeModel, nodeFetchBytes } from '../../island-node/node-runtime';
import { variationSteps } from '../schemas/cost';
import type { DiffusionPipeline, GenerateRequest, Progress } from './pipeline';
import { loadSdTurboManifest } from './sdturbo';

const sha = (b: Uint8Array | Uint8ClampedArray) => createHash('sha256').update(b).digest('hex');

/** Mean absolute difference of the RGB channels, in levels of 255. */
function meanDistance(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
	let sum = 0;
	for (let p = 0; p < a.length; p += 4) for (let c = 0; c < 3; c++) sum += Math.abs(a[p + c] - b[p + c]);
	return sum / ((a.length / 4) * 3);
}

describe('variationSteps', () => {
	it('runs the last steps × strength steps, at least one, never more than asked', () => {
		expect(variationSteps(8, 0.5)).toBe(4);
		expect(variationSteps(10, 0.3)).toBe(3); // 2.9999… in floats
		expect(variationSteps(10, 0.7)).toBe(7);
		expect(variationSteps(8, 0.1)).toBe(1); // 0.8 → at least one
		expect(variationSteps(1, 0.9)).toBe(1);
		expect(variationSteps(12, 0.9)).toBe(10);
	});
});

describe('variation (tiny demo-shaped models)', () => {
	let pipe: DiffusionPipeline;
	let input: Uint8ClampedArray;
	const req: GenerateRequest = { prompt: 'a red circle', width: 256, height: 256, steps: 8, guidance: 5, seed: 99 };
	beforeAll(async () => {
		pipe = (await loadNodeModel(new URL('files.json', tinyUrl('demo')), tinyDemoManifest())).pipeline;
		input = (await pipe.generate({ ...req, seed: 1 })).rgba;
	});

	it('same input, seed and strength → byte-identical; another seed, strength or input → another picture', async () => {
		const v = { ...req, variation: { rgba: input, strength: 0.5 } };
		const a = await pipe.generate(v), b = await pipe.generate(v);
		expect(sha(a.rgba)).toBe(sha(b.rgba));
		expect(sha((await pipe.generate({ ...v, seed: 100 })).rgba)).not.toBe(sha(a.rgba));
		expect(sha((await pipe.generate({ ...v, variation: { rgba: input, strength: 0.9 } })).rgba)).not.toBe(sha(a.rgba));
		const other = (await pipe.generate({ ...req, seed: 2 })).rgba;
		expect(sha((await pipe.generate({ ...v, variation: { rgba: other, strength: 0.5 } })).rgba)).not.toBe(sha(a.rgba));
		// And not the text-to-image picture of the same request either.
		expect(sha(a.rgba)).not.toBe(sha((await pipe.generate(req)).rgba));
	});

	it('runs only the steps after the strength’s point of the schedule', async () => {
		const seen: Progress[] = [];
		const out = await pipe.generate({ ...req, variation: { rgba: input, strength: 0.5 } }, { preview: true, previewEveryMs: 0, onProgress: (p) => void seen.push(p) });
		expect(seen.map((p) => [p.step, p.total])).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
		expect(seen.map((p) => !!p.preview)).toEqual([true, true, true, false]);
		expect(out.timings.unetMs).toHaveLength(4);
	});

	it('refuses a strength out of range, an input of another size', async () => {
		await expect(pipe.generate({ ...req, variation: { rgba: input, strength: 0.95 } })).rejects.toThrow(/strength/);
		await expect(pipe.generate({ ...req, variation: { rgba: input, strength: 0.05 } })).rejects.toThrow(/strength/);
		await expect(pipe.generate({ ...req, width: 320, variation: { rgba: input, strength: 0.5 } })).rejects.toThrow(/320×256/);
	});
});

describe('variation (tiny SD-Turbo-shaped models)', () => {
	it('encodes with the distribution’s mean and denoises on the turbo scheduler, deterministically', async () => {
		const base = tinyUrl('sdturbo').href;
		const manifest = (await loadSdTurboManifest(base, nodeFetchBytes))!;
		expect(manifest.io.vaeEncoder?.outputs.latent_parameters.shape).toEqual([1, 8, 64, 64]);
		const { pipeline } = await loadNodeModel(base, manifest);
		expect(pipeline.canVary).toBe(true);
		const r = { prompt: 'a cat in a hat', width: 512, height: 512, steps: 2, guidance: 0, seed: 7 };
		const input = (await pipeline.generate(r)).rgba;
		const seen: Progress[] = [];
		const v = { ...r, variation: { rgba: input, strength: 0.5 } };
		const a = await pipeline.generate(v, { onProgress: (p) => void seen.push(p) });
		expect(seen.map((p) => [p.step, p.total])).toEqual([[1, 1]]);
		expect(sha((await pipeline.generate(v)).rgba)).toBe(sha(a.rgba));
		await pipeline.release();
	});
});

describe('variation (the demo model)', () => {
	// v4's latent is a few numbers per cell (the background is three), so a new prompt's colours
	// come through early: at 0.5 a new background is half way in. 0.2 keeps the picture.
	it('stays close to its input at 0.2 and follows a new prompt at 0.9', async () => {
		const { pipeline } = await loadNodeModel(new URL('../../../static/models/demo/manifest.json', import.meta.url));
		const r = { prompt: 'a red circle on a blue background', width: 256, height: 256, steps: 12, guidance: 1.5, seed: 5 };
		const input = (await pipeline.generate(r)).rgba;
		expect(scoreColours(input, 256, 256).background).toBe('blue');
		const green = 'a red circle on a green background';
		const close = (await pipeline.generate({ ...r, prompt: green, seed: 6, variation: { rgba: input, strength: 0.2 } })).rgba;
		const far = (await pipeline.generate({ ...r, prompt: green, seed: 6, variation: { rgba: input, strength: 0.9 } })).rgba;
		const fresh = (await pipeline.generate({ ...r, seed: 6 })).rgba;
		// Measured (v4, its guidance 1.5): 10.6 levels at 0.2, 72 at 0.9, 26.5 for a fresh picture of the same prompt.
		expect(meanDistance(close, input)).toBeLessThan(20);
		expect(meanDistance(close, input)).toBeLessThan(meanDistance(fresh, input) / 2);
		expect(scoreColours(close, 256, 256).background).toBe('blue');
		expect(scoreColours(far, 256, 256).background).toBe('green');
		await pipeline.release();
	});
});
