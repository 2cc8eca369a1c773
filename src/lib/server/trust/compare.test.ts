import { encode } from 'fast-png';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNodeModel } from '../../../island-node/node-runtime';
import { encodePng } from '../../diffusion/png';
import { compareImages, TILE_DISTANCE_THRESHOLD } from './compare';

// Real demo-model pictures (onnxruntime-node), so the forgeries below are made of the kind
// of content an Island returns: flat backgrounds, soft shapes, smooth gradients.
const demoManifest = fileURLToPath(new URL('../../../../static/models/demo/manifest.json', import.meta.url));
const JOB = { prompt: 'a red circle on a blue background', width: 256, height: 256, steps: 4, guidance: 5, seed: 1234 };
const meta = (seed: number, width = 256, height = 256) => ({ ...JOB, seed, width, height, model: 'demo' });

type Pixels = Uint8Array | Uint8ClampedArray;
let rgba: Pixels; // the honest picture, seed 1234
let other: Pixels; // another seed and prompt
let honestPng: Uint8Array;
let tallPng: Uint8Array; // the same request at 256×320

/** A deterministic generator, so a failure replays. */
function rng(seed: number) {
	let s = seed >>> 0;
	return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const png = (pixels: Pixels, width = 256, height = 256) => encodePng(pixels, width, height, meta(1234, width, height));

/** A copy of `src` with the size×size square at (x, y) run through `f(value, index)`. */
function patched(src: Pixels, x: number, y: number, size: number, f: (v: number, i: number) => number, width = 256): Pixels {
	const out = src.slice();
	for (let j = y; j < y + size; j++)
		for (let i = x; i < x + size; i++)
			for (let c = 0; c < 3; c++) {
				const k = (j * width + i) * 4 + c;
				out[k] = f(src[k], k);
			}
	return out;
}

beforeAll(async () => {
	const { pipeline } = await loadNodeModel(demoManifest);
	try {
		rgba = (await pipeline.generate(JOB)).rgba;
		other = (await pipeline.generate({ ...JOB, prompt: 'a small yellow star in the top left corner, green background', seed: 77 })).rgba;
		tallPng = encodePng((await pipeline.generate({ ...JOB, height: 320 })).rgba, 256, 320, meta(1234, 256, 320));
	} finally {
		await pipeline.release();
	}
	honestPng = png(rgba);
}, 120_000);

describe('compareImages: honest pairs are the same', () => {
	it('the same picture, encoded again with other metadata, as 8-bit RGB and as 16-bit RGBA', () => {
		const again = encodePng(rgba, 256, 256, { ...meta(1234), prompt: 'other text, same pixels' });
		expect(again).not.toEqual(honestPng);
		const r = compareImages(honestPng, again);
		expect(r).toMatchObject({ same: true, maxTileDistance: 0, threshold: TILE_DISTANCE_THRESHOLD });
		expect(r.reason).toBeUndefined();
		expect(compareImages(honestPng, honestPng.slice())).toMatchObject({ same: true, maxTileDistance: 0, worstTile: { x: 0, y: 0, width: 16, height: 16 } });

		// Same pixels as 8-bit RGB and as 16-bit RGBA: an encoding is not a difference.
		const rgb = new Uint8Array(256 * 256 * 3);
		const wide = new Uint16Array(256 * 256 * 4);
		for (let p = 0; p < 256 * 256; p++) {
			for (let c = 0; c < 3; c++) rgb[p * 3 + c] = rgba[p * 4 + c];
			for (let c = 0; c < 4; c++) wide[p * 4 + c] = rgba[p * 4 + c] * 257;
		}
		expect(compareImages(honestPng, encode({ width: 256, height: 256, data: rgb, channels: 3, depth: 8 }))).toMatchObject({ same: true, maxTileDistance: 0 });
		expect(compareImages(honestPng, encode({ width: 256, height: 256, data: wide, channels: 4, depth: 16 }))).toMatchObject({ same: true, maxTileDistance: 0 });
	});

	it('palette and grey encodings are compared by their colours', () => {
		// A two-colour picture, as palette indices (1 bit) and as RGBA: the same colours.
		const indices = new Uint8Array(256 * 256).map((_, p) => ((p % 256) < 128 ? 0 : 1));
		const palette = [[200, 30, 40], [10, 20, 250]];
		const rgbaTwo = new Uint8Array(256 * 256 * 4).map((_, k) => (k % 4 === 3 ? 255 : palette[indices[k >> 2]][k % 4]));
		const packed = new Uint8Array(32 * 256).map((_, i) => ((i % 32) < 16 ? 0x00 : 0xff));
		const paletted = encode({ width: 256, height: 256, data: packed, channels: 1, depth: 1, palette });
		expect(compareImages(png(rgbaTwo), paletted)).toMatchObject({ same: true, maxTileDistance: 0 });
		// The same bits as 1-bit grey are black and white, not the palette's colours.
		const blackWhite = new Uint8Array(256 * 256 * 4).map((_, k) => (k % 4 === 3 || indices[k >> 2] ? 255 : 0));
		const grey1 = encode({ width: 256, height: 256, data: packed, channels: 1, depth: 1 });
		expect(compareImages(png(blackWhite), grey1)).toMatchObject({ same: true, maxTileDistance: 0 });
		expect(compareImages(paletted, grey1).same).toBe(false);
		// Grey: one channel stands for all three.
		const greyValues = new Uint8Array(256 * 256).map((_, p) => p % 251);
		const asRgba = new Uint8Array(256 * 256 * 4).map((_, k) => (k % 4 === 3 ? 255 : greyValues[k >> 2]));
		expect(compareImages(png(asRgba), encode({ width: 256, height: 256, data: greyValues, channels: 1, depth: 8 }))).toMatchObject({ same: true, maxTileDistance: 0 });
		expect(compareImages(paletted, png(asRgba)).same).toBe(false);
	});

	it('±1 level of noise on every pixel and channel', () => {
		const rand = rng(1);
		// a level of 0 or 255 (flat colours of the shapes model) steps inwards, so every value moves
		const noisy = rgba.map((v, k) => {
			if (k % 4 === 3) return v;
			const d = rand() < 0.5 ? -1 : 1;
			return v + d < 0 || v + d > 255 ? v - d : v + d;
		});
		const r = compareImages(honestPng, png(noisy));
		expect(r.same).toBe(true);
		expect(r.maxTileDistance).toBeGreaterThan(0.9); // the noise is really there
		expect(r.maxTileDistance).toBeLessThanOrEqual(1);
	});

	it('rounding noise like real backends: a few values in a thousand off by one level', () => {
		const rand = rng(2);
		const rounded = rgba.map((v, k) => (k % 4 !== 3 && rand() < 0.002 ? (v === 255 ? 254 : v + 1) : v));
		const r = compareImages(png(rounded), honestPng);
		expect(r.same).toBe(true);
		expect(r.maxTileDistance).toBeGreaterThan(0);
		expect(r.maxTileDistance).toBeLessThan(0.05);
	});

});

describe('compareImages: transparency counts', () => {
	// The pipeline always draws opaque pixels; a region made transparent shows whatever is
	// behind the picture, so it is as much a change as repainting it.
	it('a 32×32 patch made transparent is a different picture', () => {
		const holed = rgba.slice();
		for (let j = 100; j < 132; j++) for (let i = 37; i < 69; i++) holed[(j * 256 + i) * 4 + 3] = 0;
		expect(compareImages(honestPng, png(holed)).same).toBe(false);
	});
	it('an opaque RGBA picture and the same as 8-bit RGB are the same', () => {
		const rgb = new Uint8Array(256 * 256 * 3);
		for (let p = 0; p < 256 * 256; p++) rgb.set(rgba.subarray(p * 4, p * 4 + 3), p * 3);
		expect(compareImages(honestPng, encode({ width: 256, height: 256, data: rgb, channels: 3, depth: 8 }))).toMatchObject({ same: true, maxTileDistance: 0 });
	});
});

describe('compareImages: forgeries differ', () => {
	// 32×32 at 256×256 is side width/8: grid-aligned, half a tile off, and odd offsets.
	const offsets: [number, number][] = [[0, 0], [224, 224], [16, 16], [8, 200], [7, 13], [100, 37], [223, 1], [131, 171]];

	it.each(offsets)('another picture pasted into the 32×32 patch at (%i, %i)', (x, y) => {
		const r = compareImages(honestPng, png(patched(rgba, x, y, 32, (_, k) => other[k])));
		expect(r.same).toBe(false);
		expect(r.maxTileDistance).toBeGreaterThan(TILE_DISTANCE_THRESHOLD);
		// The worst tile lies inside the patch: the patch covers it whole.
		const t = r.worstTile;
		expect(t.x).toBeGreaterThanOrEqual(x);
		expect(t.y).toBeGreaterThanOrEqual(y);
		expect(t.x + t.width).toBeLessThanOrEqual(x + 32);
		expect(t.y + t.height).toBeLessThanOrEqual(y + 32);
		expect(r.reason).toMatch(/^tile \(\d+,\d+\) at \d+,\d+ \(16×16 px\) differs by [\d.]+ levels/);
	});

	it.each(offsets)('a subtle ±6-level change over the 32×32 patch at (%i, %i)', (x, y) => {
		// Towards mid-grey so nothing clips: every changed value moves by exactly 6 levels.
		const r = compareImages(png(patched(rgba, x, y, 32, (v) => (v < 128 ? v + 6 : v - 6))), honestPng);
		expect(r.same).toBe(false);
		expect(r.maxTileDistance).toBe(6);
	});

	it('a change below side width/8 that misses every whole tile is diluted, not invisible', () => {
		// Documents the limit of the guarantee: a 16×16 patch half a tile off covers no tile
		// whole, so its +6 shows as 6/4 in each of four tiles.
		const r = compareImages(png(patched(rgba, 8, 8, 16, (v) => (v < 128 ? v + 6 : v - 6))), honestPng);
		expect(r.maxTileDistance).toBe(1.5);
	});

	it('a blank image, a black one and a different seed', () => {
		const grey = new Uint8Array(256 * 256 * 4).fill(128);
		const black = new Uint8Array(256 * 256 * 4).map((_, k) => (k % 4 === 3 ? 255 : 0));
		for (const forged of [grey, black, other]) {
			const r = compareImages(honestPng, png(forged));
			expect(r.same).toBe(false);
			expect(r.maxTileDistance).toBeGreaterThan(10 * TILE_DISTANCE_THRESHOLD);
		}
	});

	it('another size, either way round, without decoding', () => {
		const r = compareImages(honestPng, tallPng);
		expect(r).toMatchObject({ same: false, reason: 'size differs: 256×256 vs 256×320' });
		expect(compareImages(tallPng, honestPng).reason).toBe('size differs: 256×320 vs 256×256');
	});

	it('undecodable input is a verdict, never a throw', () => {
		const truncated = honestPng.subarray(0, honestPng.length - 200);
		const cases: [Uint8Array, Uint8Array, RegExp][] = [
			[new Uint8Array(0), honestPng, /^undecodable PNG \(first image/],
			[honestPng, new TextEncoder().encode('not a png at all, just some text here'), /^undecodable PNG \(second image/],
			[honestPng, truncated, /^second image: undecodable PNG/],
			// Identical bytes are not a free pass: the picture must still decode.
			[truncated, truncated.slice(), /^first image: undecodable PNG/]
		];
		for (const [a, b, reason] of cases) {
			const r = compareImages(a, b);
			expect(r.same).toBe(false);
			expect(r.reason).toMatch(reason);
		}
	});

	it('the threshold option moves the verdict, and a nonsense threshold falls back to the calibrated one', () => {
		const subtle = png(patched(rgba, 40, 40, 32, (v) => (v < 128 ? v + 6 : v - 6)));
		expect(compareImages(honestPng, subtle, { threshold: 6 })).toMatchObject({ same: true, threshold: 6 });
		expect(compareImages(honestPng, subtle, { threshold: 5.9 }).same).toBe(false);
		expect(compareImages(honestPng, subtle, { threshold: Number.NaN }).threshold).toBe(TILE_DISTANCE_THRESHOLD);
		expect(compareImages(honestPng, subtle, { threshold: -1 }).threshold).toBe(TILE_DISTANCE_THRESHOLD);
	});
});
