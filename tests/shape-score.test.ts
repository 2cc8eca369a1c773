import { readdirSync, readFileSync } from 'node:fs';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { classifyMask, insideShape, scoreShape, SHAPES } from './helpers/shape-score';

// Scenes rendered by tools/demo-model/dataset.py (python3 dataset.py --write-shape-fixtures):
// every shape, large and small, at 256×256 and 384×256; named shape-size-WxH-colour-on-bg.png.
const dir = new URL('./fixtures/shapes/', import.meta.url);

describe('the shape scorer of the end-to-end test', () => {
	it('names the shape of every rendered training scene, small ones included', () => {
		const files = readdirSync(dir).filter((f) => f.endsWith('.png'));
		expect(files.length).toBe(24);
		for (const f of files) {
			const img = decode(readFileSync(new URL(f, dir)));
			expect(scoreShape(img.data, img.width, img.height, img.channels).shape, f).toBe(f.split('-')[0]);
		}
	});

	it('finds no shape in a plain image, and a disc is not a ring', () => {
		const plain = new Uint8Array(64 * 64 * 4).fill(200);
		expect(scoreShape(plain, 64, 64).shape).toBeNull();
		for (const s of SHAPES) {
			const w = 160, h = 160, mask = new Uint8Array(w * h);
			for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mask[y * w + x] = insideShape(s, (x + 0.5 - 70) / 40, (y + 0.5 - 90) / 40) ? 1 : 0;
			expect(classifyMask(mask, w, h).shape).toBe(s);
		}
	});
});
