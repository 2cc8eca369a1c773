// The broker's PNG check on its own (tests/security.test.ts drives it over HTTP): a good
// image passes; a wrong size, a non-PNG, a truncated file, a bad CRC and a bomb do not.
import { describe, expect, it } from 'vitest';
import { craftedPng } from '../../../../tests/helpers/crafted-png';
import { encodePng } from '../../diffusion/png';
import { checkPng } from './png-check';

function gradient(w: number, h: number): Uint8ClampedArray {
	const px = new Uint8ClampedArray(w * h * 4);
	for (let i = 0; i < w * h; i++) px.set([i % 256, (i * 7) % 256, 128, 255], i * 4);
	return px;
}
const meta = { prompt: 'a red circle', seed: 1, steps: 4, width: 64, height: 32, model: 'demo', guidance: 5 };

describe('checkPng', () => {
	const png = encodePng(gradient(64, 32), 64, 32, meta);

	it('accepts an encoded image of the asked size', () => {
		expect(checkPng(png, { width: 64, height: 32 })).toEqual({ ok: true });
	});

	it('refuses the wrong size, a non-PNG, a truncated file and a bad CRC', () => {
		expect(checkPng(png, { width: 32, height: 64 })).toEqual({ ok: false, reason: 'the image is 64×32, the job asked for 32×64' });
		expect(checkPng(new TextEncoder().encode('GIF89a not a png at all'), { width: 1, height: 1 })).toEqual({ ok: false, reason: 'not a PNG file' });
		expect(checkPng(png.slice(0, png.length - 30), { width: 64, height: 32 }).ok).toBe(false);
		const flipped = png.slice();
		flipped[60] ^= 0xff; // inside IDAT or a text chunk: its CRC no longer matches
		expect(checkPng(flipped, { width: 64, height: 32 })).toMatchObject({ ok: false, reason: expect.stringMatching(/^bad CRC in /) });
	});

	it('refuses a huge claimed size without inflating it', () => {
		// A 1×1 PNG whose IHDR says 60000×60000 (CRC fixed): the size check comes first.
		const tiny = craftedPng(60000, 60000, 1);
		expect(checkPng(tiny, { width: 512, height: 512 }).ok).toBe(false);
	});

	it('stops inflating at the size the header implies (a decompression bomb)', () => {
		const bomb = craftedPng(64, 32, 64 << 20);
		expect(checkPng(bomb, { width: 64, height: 32 })).toEqual({ ok: false, reason: 'image data inflates beyond its declared size' });
	});

	it('refuses image data shorter than its header implies', () => {
		expect(checkPng(craftedPng(64, 32, 10), { width: 64, height: 32 })).toEqual({ ok: false, reason: 'image data is shorter than its declared size' });
	});
});
