// Helpers for scripts/calibrate-compare.ts: per-pair figures and the forgeries made from an
// honest picture. Kept apart so the script itself reads as the measurement plan.
import { decode } from 'fast-png';
import { performance } from 'node:perf_hooks';
import { encodePng } from '../src/lib/diffusion/png';
import { compareImages } from '../src/lib/server/trust/compare';

export type Pixels = Uint8Array | Uint8ClampedArray;

/** One honest picture: the reference backend's RGBA and PNG, with the request that made it. */
export interface Rendered {
	req: { prompt: string; width: number; height: number; steps: number; guidance: number; seed: number };
	rgba: Pixels;
	png: Uint8Array;
}

export interface PairFigures {
	maxTile: number;
	meanAbs: number;
	maxAbs: number;
	/** Share of RGB values that differ at all. */
	differing: number;
}

/** compareImages' worst tile plus whole-image figures, over RGB. */
export function pairFigures(a: Uint8Array, b: Uint8Array): PairFigures {
	const c = compareImages(a, b, { threshold: 255 });
	const da = decode(a), db = decode(b);
	let sum = 0, max = 0, n = 0, diff = 0;
	for (let p = 0; p < da.width * da.height; p++)
		for (let ch = 0; ch < 3; ch++) {
			const d = Math.abs(da.data[p * da.channels + ch] - db.data[p * db.channels + ch]);
			sum += d;
			if (d > max) max = d;
			if (d) diff++;
			n++;
		}
	return { maxTile: c.maxTileDistance, meanAbs: sum / n, maxAbs: max, differing: diff / n };
}

/** A deterministic generator, so a calibration run replays. */
export function rng(seed: number) {
	let s = seed >>> 0;
	return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const png = (r: Rendered, rgba: Pixels) => encodePng(rgba, r.req.width, r.req.height, { ...r.req, model: 'demo' });

/** `src` with the side×side square at (x, y) run through f(value, index). */
function patched(src: Pixels, width: number, x: number, y: number, side: number, f: (v: number, k: number) => number): Uint8Array {
	const out = Uint8Array.from(src);
	for (let j = y; j < y + side; j++)
		for (let i = x; i < x + side; i++)
			for (let c = 0; c < 3; c++) {
				const k = (j * width + i) * 4 + c;
				out[k] = f(src[k], k);
			}
	return out;
}

/** Nearest-neighbour 2× upscale: what a forger who rendered a quarter of the pixels sends. */
function upscale2(src: Pixels, width: number, height: number): Uint8Array {
	const out = new Uint8Array(width * height * 16);
	for (let y = 0; y < height * 2; y++)
		for (let x = 0; x < width * 2; x++) out.set(src.subarray(((y >> 1) * width + (x >> 1)) * 4, ((y >> 1) * width + (x >> 1)) * 4 + 4), (y * width * 2 + x) * 4);
	return out;
}

/**
 * Forged PNGs against `honest`, by attack: a side/8 square pasted from `donor` (another
 * prompt's picture) at random offsets, the same square shifted by ±k levels, blank and black
 * pictures. The lazy forgeries (fewer steps, no guidance, another seed, a smaller render
 * upscaled) need the model, so the script renders those and passes them in `rendered`.
 */
export function forgeries(honest: Rendered, donor: Rendered | undefined, seed: number, rendered: Record<string, Pixels> = {}): Record<string, Uint8Array[]> {
	const { width, height } = honest.req;
	const side = width / 8;
	const rand = rng(seed);
	const offsets = Array.from({ length: 6 }, () => [Math.floor(rand() * (width - side + 1)), Math.floor(rand() * (height - side + 1))]);
	const shift = (k: number) => (v: number) => (v < 128 ? v + k : v - k);
	const out: Record<string, Uint8Array[]> = {
		'another picture in a width/8 square': donor ? offsets.map(([x, y]) => png(honest, patched(honest.rgba, width, x, y, side, (_, k) => donor.rgba[k]))) : [],
		'width/8 square shifted ±4 levels': offsets.map(([x, y]) => png(honest, patched(honest.rgba, width, x, y, side, shift(4)))),
		'blank (mid-grey) picture': [png(honest, new Uint8Array(width * height * 4).fill(128))],
		'black picture': [png(honest, new Uint8Array(width * height * 4).map((_, k) => (k % 4 === 3 ? 255 : 0)))]
	};
	if (!donor) delete out['another picture in a width/8 square'];
	for (const [name, rgba] of Object.entries(rendered)) {
		if (name === 'half-size render, upscaled 2×') out[name] = [png(honest, upscale2(rgba, width / 2, height / 2))];
		else out[name] = [png(honest, rgba)];
	}
	return out;
}

/** Prompts with different colours and places, so pictures (and pasted squares) differ. */
export const PROMPTS = [
	'a red circle on a blue background',
	'a small yellow star in the top left corner, green background',
	'a large purple heart in the center, white background',
	'a green triangle at the bottom right, black background',
	'an orange ring on a grey background',
	'a small blue diamond at the top, yellow background',
	'a pink cross in the bottom left corner, navy background',
	'a large white square, red background'
];

export interface Summary {
	pairs: number;
	maxTile: number;
	medianMaxTile: number;
	maxMeanAbs: number;
	maxAbs: number;
	maxDiffering: number;
}

export function summarise(rows: PairFigures[]): Summary {
	const tiles = rows.map((r) => r.maxTile).sort((a, b) => a - b);
	return {
		pairs: rows.length,
		maxTile: tiles.at(-1) ?? NaN,
		medianMaxTile: tiles[Math.floor(tiles.length / 2)] ?? NaN,
		maxMeanAbs: Math.max(...rows.map((r) => r.meanAbs)),
		maxAbs: Math.max(...rows.map((r) => r.maxAbs)),
		maxDiffering: Math.max(...rows.map((r) => r.differing))
	};
}

/** Median milliseconds of compareImages on (a, b), and of the two decodes alone. */
export function timeCompare(a: Uint8Array, b: Uint8Array, runs = 40): { compareMs: number; decodeMs: number } {
	const median = (f: () => void) => {
		for (let k = 0; k < 5; k++) f(); // warm-up: JIT and allocator
		const t: number[] = [];
		for (let k = 0; k < runs; k++) {
			const t0 = performance.now();
			f();
			t.push(performance.now() - t0);
		}
		return t.sort((x, y) => x - y)[runs >> 1];
	};
	return { compareMs: median(() => compareImages(a, b)), decodeMs: median(() => (decode(a), decode(b))) };
}
