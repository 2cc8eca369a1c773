import { decode, encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { readPngText } from '../../../tests/helpers/png-text';
import { checkPng } from '../server/jobs/png-check';
import { encodePng, encodePngAsync, nodeDeflate, streamDeflate, type ImageMetadata } from './png';

const meta: ImageMetadata = {
	prompt: 'a red circle on a blue background',
	negativePrompt: 'green',
	seed: 4294967295,
	steps: 8,
	width: 64,
	height: 32,
	model: 'demo',
	guidance: 5.5
};

function gradient(w: number, h: number): Uint8ClampedArray {
	const px = new Uint8ClampedArray(w * h * 4);
	for (let i = 0; i < w * h; i++) px.set([i % 256, (i * 7) % 256, 128, 255], i * 4);
	return px;
}

describe('encodePng', () => {
	it('round-trips pixels and metadata', () => {
		const rgba = gradient(64, 32);
		const png = encodePng(rgba, 64, 32, meta);
		const img = decode(png);
		expect([img.width, img.height, img.channels, img.depth]).toEqual([64, 32, 4, 8]);
		expect(Array.from(img.data)).toEqual(Array.from(rgba));
		expect(checkPng(png, { width: 64, height: 32 })).toEqual({ ok: true });
		expect(readPngText(png)).toEqual({
			prompt: meta.prompt,
			negative_prompt: 'green',
			seed: '4294967295',
			steps: '8',
			size: '64x32',
			model: 'demo',
			guidance: '5.5',
			Software: 'Archipelago'
		});
	});

	it('keeps non-Latin-1 prompts (iTXt) and stays a valid PNG', () => {
		const png = encodePng(gradient(8, 8), 8, 8, { ...meta, width: 8, height: 8, prompt: 'un cercle rouge ☀️ 赤い丸', negativePrompt: 'café' });
		const text = readPngText(png);
		expect(text.prompt).toBe('un cercle rouge ☀️ 赤い丸');
		expect(text.negative_prompt).toBe('café');
		// The broker's check covers every CRC, the hand-written iTXt one included.
		expect(checkPng(png, { width: 8, height: 8 })).toEqual({ ok: true });
		expect(decode(png).width).toBe(8);
	});

	// Node's zlib (the headless Island), CompressionStream (the browser Island's worker; Node
	// has it too) and fast-png's JavaScript deflate (no native one): each gives a valid PNG of
	// the same pixels and entries, and the same bytes every time for the same pixels.
	const deflates = { 'node:zlib': nodeDeflate, CompressionStream: streamDeflate, 'fast-png': null };
	it.each(Object.entries(deflates))('encodes the same pixels to the same bytes with %s', async (_, deflate) => {
		expect(deflate).not.toBeUndefined();
		// 7×5: rows whose length is no multiple of anything, for the filter's first pixels.
		for (const [w, h] of [[64, 32], [7, 5], [1, 1]]) {
			const rgba = gradient(w, h);
			const m = { ...meta, width: w, height: h, prompt: 'un cercle rouge ☀️' };
			const a = await encodePngAsync(rgba, w, h, m, deflate!), b = await encodePngAsync(rgba.slice(), w, h, m, deflate!);
			expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
			const img = decode(a);
			expect([img.width, img.height, img.channels, img.depth]).toEqual([w, h, 4, 8]);
			expect(Array.from(img.data)).toEqual(Array.from(rgba));
			// The same pixels as fast-png's own encoding, which every image used to be.
			expect(Array.from(img.data)).toEqual(Array.from(decode(encode({ width: w, height: h, data: rgba, channels: 4, depth: 8 })).data));
			expect(readPngText(a)).toEqual(readPngText(encodePng(rgba, w, h, m, null)));
			expect(checkPng(a, { width: w, height: h })).toEqual({ ok: true });
		}
	});

	it('uses the native deflate by default where there is one, synchronous or not', async () => {
		const rgba = gradient(64, 32);
		const viaZlib = encodePng(rgba, 64, 32, meta, nodeDeflate!);
		expect(Buffer.from(encodePng(rgba, 64, 32, meta)).equals(Buffer.from(viaZlib))).toBe(true);
		expect(Buffer.from(await encodePngAsync(rgba, 64, 32, meta)).equals(Buffer.from(viaZlib))).toBe(true);
		expect(() => encodePng(rgba, 64, 31, meta)).toThrow(RangeError);
	});
});
