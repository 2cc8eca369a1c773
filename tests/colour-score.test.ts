import { describe, expect, it } from 'vitest';
import { PALETTE, scoreColours } from './helpers/colour-score';

/** A flat scene like the demo model's training data: a disc of one colour on another. */
function scene(width: number, height: number, shape: string, background: string, cx: number, cy: number, r: number) {
	const data = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++)
		for (let x = 0; x < width; x++) {
			const inside = (x - cx * width) ** 2 + (y - cy * height) ** 2 < (r * Math.min(width, height)) ** 2;
			data.set([...PALETTE[inside ? shape : background], 255], (y * width + x) * 4);
		}
	return data;
}

describe('the pixel scorer of the end-to-end test', () => {
	it('reads the background, the shape colour and the shape cell', () => {
		expect(scoreColours(scene(320, 256, 'red', 'blue', 0.5, 0.5, 0.18), 320, 256)).toMatchObject({ background: 'blue', shape: 'red', cell: [1, 1] });
		expect(scoreColours(scene(256, 256, 'yellow', 'black', 0.2, 0.8, 0.09), 256, 256)).toMatchObject({ background: 'black', shape: 'yellow', cell: [0, 2] });
		expect(scoreColours(scene(384, 256, 'white', 'green', 0.8, 0.2, 0.09), 384, 256)).toMatchObject({ background: 'green', shape: 'white', cell: [2, 0] });
	});

	it('finds no shape in a plain image', () => {
		expect(scoreColours(scene(64, 64, 'red', 'cyan', 0.5, 0.5, 0), 64, 64)).toMatchObject({ background: 'cyan', shape: null, cell: null });
	});
});
