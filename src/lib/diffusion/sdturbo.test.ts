import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { tinyUrl } from '../../../tests/helpers/tiny-models';
import { loadNodeModel, nodeFetchBytes } from '../../island-node/node-runtime';
import { encodePng } from './png';
import type { Progress } from './pipeline';
import { buildSdTurboManifest, loadSdTurboManifest } from './sdturbo';

// SD-Turbo's weights can't be downloaded here: tiny random ONNX models with its exact input
// and output names and shapes (tools/tiny-models/make.py) go through the same pipeline.
describe('SD-Turbo wiring', () => {
	it('has no manifest without SDTURBO_BASE_URL', async () => {
		expect(await loadSdTurboManifest(undefined)).toBeNull();
		expect(await loadSdTurboManifest('')).toBeNull();
	});

	it('resolves file URLs under the base URL, with or without a trailing slash', () => {
		const files = { url: 'x', sha256: 'a'.repeat(64), bytes: 1 };
		const m = buildSdTurboManifest('https://cdn.example.com/sd-turbo', {
			textEncoder: { ...files, url: 'text_encoder.onnx' },
			unet: { ...files, url: 'unet/model.onnx' },
			vaeDecoder: { ...files, url: 'vae_decoder.onnx' },
			tokenizer: { ...files, url: 'https://other.example.com/tokenizer.json' }
		});
		expect(m.files.textEncoder.url).toBe('https://cdn.example.com/sd-turbo/text_encoder.onnx');
		expect(m.files.unet.url).toBe('https://cdn.example.com/sd-turbo/unet/model.onnx');
		expect(m.files.tokenizer.url).toBe('https://other.example.com/tokenizer.json');
		expect(m.io.textEncoder.inputs.input_ids).toEqual({ type: 'int32', shape: [1, 77] });
		expect(m.io.unet.inputs.encoder_hidden_states.shape).toEqual(['batch', 77, 1024]);
		expect(m.latent.scale).toBe(0.18215);
		expect(m.scheduler).toMatchObject({ type: 'turbo', prediction: 'epsilon', betaSchedule: 'scaled_linear' });
		expect(m.sizes).toEqual([[512, 512]]);
		expect(m.guidance.default).toBe(0);
	});

	it('generates a 512×512 image in one turbo step from files under the base URL', async () => {
		const base = tinyUrl('sdturbo').href; // stands in for SDTURBO_BASE_URL
		const manifest = (await loadSdTurboManifest(base, nodeFetchBytes))!;
		const { pipeline } = await loadNodeModel(base, manifest);
		const seen: Progress[] = [];
		const r = { prompt: 'a cat in a hat', width: 512, height: 512, steps: 1, guidance: 0, seed: 7 };
		const a = await pipeline.generate(r, { preview: true, onProgress: (p) => void seen.push(p) });
		const b = await pipeline.generate(r);
		expect(Buffer.from(a.rgba).equals(Buffer.from(b.rgba))).toBe(true);
		expect(seen.map((p) => [p.step, p.total, p.preview])).toEqual([[1, 1, undefined]]);
		expect(a.timings.unetMs).toHaveLength(1);
		const img = decode(encodePng(a.rgba, 512, 512, { ...r, model: 'sd-turbo' }));
		expect([img.width, img.height]).toEqual([512, 512]);
		// Two ancestral steps also run (they draw fresh seeded noise between steps); the
		// fixed-shape decoder gets the linear latent→RGB preview, not a pooled decode.
		const twoSeen: Progress[] = [];
		const two = await pipeline.generate({ ...r, steps: 2 }, { preview: true, onProgress: (p) => void twoSeen.push(p) });
		expect(Buffer.from(two.rgba).equals(Buffer.from(a.rgba))).toBe(false);
		expect(twoSeen[0].preview).toMatchObject({ width: 64, height: 64 });
		await pipeline.release();
	});

	it('rejects files whose hash does not match files.json', async () => {
		const base = tinyUrl('sdturbo').href;
		const manifest = (await loadSdTurboManifest(base, nodeFetchBytes))!;
		const bad = { ...manifest, files: { ...manifest.files, unet: { ...manifest.files.unet, sha256: '0'.repeat(64) } } };
		await expect(loadNodeModel(base, bad)).rejects.toThrow(/unet: sha256/);
	});
});
