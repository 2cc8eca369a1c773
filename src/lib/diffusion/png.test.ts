import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { encodePng, readPngHeader, readPngText, validatePng, type ImageMetadata } from './png';

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

describe('png', () => {
	it('round-trips pixels and metadata', () => {
		const rgba = gradient(64, 32);
		const png = encodePng(rgba, 64, 32, meta);
		const img = decode(png);
		expect([img.width, img.height, img.channels, img.depth]).toEqual([64, 32, 4, 8]);
		expect(Array.from(img.data)).toEqual(Array.from(rgba));
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
		expect(validatePng(png, { width: 8, height: 8 }).ok).toBe(true);
		expect(decode(png).width).toBe(8);
	});

	it('validates size, signature, CRCs and truncation', () => {
		const png = encodePng(gradient(64, 32), 64, 32, meta);
		expect(readPngHeader(png)).toMatchObject({ width: 64, height: 32, bitDepth: 8, colorType: 6 });
		expect(validatePng(png, { width: 64, height: 32 })).toMatchObject({ ok: true });
		expect(validatePng(png, { width: 32, height: 64 })).toMatchObject({ ok: false, reason: expect.stringContaining('expected 32x64') });
		expect(validatePng(png, { width: 64, height: 32, maxBytes: 10 }).ok).toBe(false);
		expect(validatePng(new TextEncoder().encode('GIF89a not a png at all'), { width: 1, height: 1 }).ok).toBe(false);
		expect(validatePng(png.slice(0, png.length - 30), { width: 64, height: 32 }).ok).toBe(false);
		const flipped = png.slice();
		flipped[60] ^= 0xff; // inside IDAT or a text chunk: its CRC no longer matches
		expect(validatePng(flipped, { width: 64, height: 32 }).ok).toBe(false);
	});

	it('refuses a huge claimed size without inflating it', () => {
		// A 1×1 PNG whose IHDR is rewritten to 60000×60000 (CRC fixed): a decompression bomb shape.
		const png = encodePng(gradient(1, 1), 1, 1);
		const dv = new DataView(png.buffer);
		dv.setUint32(16, 60000);
		dv.setUint32(20, 60000);
		const r = validatePng(png, { width: 512, height: 512 });
		expect(r.ok).toBe(false);
	});
});
