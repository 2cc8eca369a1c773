import { createHash } from 'node:crypto';
import { decode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyDemoManifest, tinyUrl } from '../../../tests/helpers/tiny-models';
import { loadNodeModel } from '../../island-node/node-runtime';
import type { DiffusionPipeline, GenerateRequest, Progress } from './pipeline';
import { readPngText } from '../../../tests/helpers/png-text';
import { encodePng } from './png';

// Real onnxruntime-node on the tiny random demo-shaped models: the numbers are meaningless,
// but every tensor name, shape, dtype and the sampling loop are the real ones.
let pipe: DiffusionPipeline;
beforeAll(async () => {
	pipe = (await loadNodeModel(new URL('files.json', tinyUrl('demo')), tinyDemoManifest())).pipeline;
});

const req: GenerateRequest = { prompt: 'a red circle on a blue background', negativePrompt: 'green', width: 320, height: 256, steps: 4, guidance: 5, seed: 1234 };

async function png(r: GenerateRequest): Promise<Uint8Array> {
	const out = await pipe.generate(r);
	return encodePng(out.rgba, out.width, out.height, { ...r, model: 'tiny-demo' });
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('pipeline (tiny demo-shaped models)', () => {
	it('same seed → byte-identical PNG; another seed or prompt → another image', async () => {
		const a = await png(req), b = await png(req);
		expect(sha(a)).toBe(sha(b));
		expect(sha(await png({ ...req, seed: 1235 }))).not.toBe(sha(a));
		expect(sha(await png({ ...req, prompt: 'a green star' }))).not.toBe(sha(a));
		expect(sha(await png({ ...req, negativePrompt: undefined }))).not.toBe(sha(a));
		const img = decode(a);
		expect([img.width, img.height, img.channels]).toEqual([320, 256, 4]);
		expect(readPngText(a)).toMatchObject({ prompt: req.prompt, seed: '1234', size: '320x256', steps: '4', model: 'tiny-demo' });
	});

	it('runs without CFG at guidance ≤ 1 and at non-square sizes', async () => {
		const out = await pipe.generate({ ...req, guidance: 1, width: 256, height: 512 });
		expect(out.rgba.length).toBe(256 * 512 * 4);
		expect(out.timings.unetMs).toHaveLength(4);
	});

	it('reports each step, with small previews on the first step and then throttled', async () => {
		const seen: Progress[] = [];
		await pipe.generate({ ...req, steps: 5 }, { preview: true, previewEveryMs: 0, onProgress: (p) => void seen.push(p) });
		expect(seen.map((p) => p.step)).toEqual([1, 2, 3, 4, 5]);
		expect(seen.every((p) => p.total === 5)).toBe(true);
		// Never on the last step: the finished image follows at once.
		expect(seen.map((p) => !!p.preview)).toEqual([true, true, true, true, false]);
		const p = seen[3].preview!;
		expect([p.width, p.height, p.rgba.length]).toEqual([40, 32, 40 * 32 * 4]);
		const slow: Progress[] = [];
		await pipe.generate({ ...req, steps: 5 }, { preview: true, previewEveryMs: 60_000, onProgress: (p) => void slow.push(p) });
		expect(slow.map((p) => !!p.preview)).toEqual([true, false, false, false, false]);
	});

	it('stops on abort between steps', async () => {
		const ac = new AbortController();
		let steps = 0;
		const run = pipe.generate({ ...req, steps: 12 }, { signal: ac.signal, onProgress: (p) => { steps = p.step; if (p.step === 2) ac.abort(new Error('cancelled by broker')); } });
		await expect(run).rejects.toThrow('cancelled by broker');
		expect(steps).toBe(2);
	});

	it('refuses sizes the manifest does not offer', async () => {
		await expect(pipe.generate({ ...req, width: 300 })).rejects.toThrow(RangeError);
	});
});
