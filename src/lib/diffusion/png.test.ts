import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { readPngText } from '../../../tests/helpers/png-text';
import { checkPng } from '../server/jobs/png-check';
import { encodePng, type ImageMetadata } from './png';

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
});
