// The objects scorer must be right on clean scenes before it can judge the model's pictures.
import { describe, expect, it } from 'vitest';
import { PALETTE } from './helpers/colour-score';
import { POSITIONS, scoreObject, THINGS, thingOn } from './helpers/objects-score';

/** A thing's resvg rendering pasted at a grid place on a plain (or two-colour) background. */
function scene(thing: string, top: string, bottom: string, place: number, size: number, w = 256, h = 256) {
	const data = new Uint8Array(w * h * 3);
	for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(PALETTE[y < h / 2 ? top : bottom], (y * w + x) * 3);
	const centres = [0.24, 0.5, 0.76];
	const cx = Math.round(centres[place % 3] * w - size / 2), cy = Math.round(centres[Math.floor(place / 3)] * h - size / 2);
	if (size === 0) return { data, width: w, height: h, channels: 3 };
	// the sprite is composited on the background at its own spot (top or bottom half's colour)
	const sprite = thingOn(thing, size, PALETTE[cy + size / 2 < h / 2 ? top : bottom]);
	for (let y = 0; y < size; y++) data.set(sprite.data.subarray(y * size * 3, (y + 1) * size * 3), ((cy + y) * w + cx) * 3);
	return { data, width: w, height: h, channels: 3 };
}

describe('objects scorer on rendered scenes', () => {
	it('names every thing, its background and its place', () => {
		const colours = Object.keys(PALETTE);
		let right = 0;
		const wrong: string[] = [];
		THINGS.forEach((thing, i) => {
			const bg = colours[(i * 7) % colours.length];
			const place = i % 9;
			const s = scoreObject(scene(thing, bg, bg, place, i % 2 ? 67 : 112));
			if (s.ranked[0] === thing && s.top === bg && s.position === POSITIONS[place]) right++;
			else wrong.push(`${thing} on ${bg} at ${POSITIONS[place]}: ${s.ranked[0]} on ${s.top} at ${s.position}`);
		});
		expect(right / THINGS.length, wrong.join('\n')).toBeGreaterThanOrEqual(0.97);
	});

	it('reads a two-colour background top and bottom', () => {
		const s = scoreObject(scene('rocket', 'yellow', 'blue', 0, 67, 320, 256));
		expect([s.top, s.bottom, s.position, s.ranked[0]]).toEqual(['yellow', 'blue', 'top left', 'rocket']);
	});

	it('finds no thing on an empty background', () => {
		const s = scoreObject(scene('cat', 'green', 'green', 4, 0));
		expect(s.ranked).toEqual([]);
		expect(s.position).toBeNull();
	});
});
