// Compares two Islands' PNGs for the same job. The pipeline is deterministic, so an honest
// pair differs only by the backends' float rounding (a level here and there); a forger who
// skipped the work, or altered part of it, differs by whole levels over some region.
//
// Why tiles and not one global mean: a forger who changes a small patch moves the global
// mean by (patch area / image area) × change, which rounding noise can hide. With a 16×16
// grid, a changed square of side width/8 (1/64 of the image) covers at least one whole tile
// wherever it sits (any interval of length 2t contains a grid cell of length t), so that
// tile's distance is the patch's own mean change, undiluted.
import { Buffer } from 'node:buffer';
import { convertIndexedToRgb, decode } from 'fast-png';

export interface ImageComparison {
	same: boolean;
	maxTileDistance: number;
	worstTile: { x: number; y: number; width: number; height: number };
	threshold: number;
	reason?: string;
}

/** Tiles per side. */
export const TILE_GRID = 16;

/**
 * The largest mean absolute difference (0–255 levels, RGB) a tile may show for two results
 * to count as the same picture. Calibrated in docs/trust.md ("Comparing results"): honest
 * cross-backend pairs measured at most 0.029 (WebGPU; WASM 0.008), ±1 level on every value
 * would be 1, and the closest forgery (fewer steps, another seed) 13.
 */
export const TILE_DISTANCE_THRESHOLD = 2;

/**
 * No more pixels than this are decoded. Results reach here already checked against the job's
 * size (png-check), so this only keeps a bad caller from decoding a gigapixel header.
 */
const MAX_PIXELS = 4096 * 4096;

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const NO_TILE = { x: 0, y: 0, width: 0, height: 0 };

/** Width and height from IHDR, read before anything is inflated; null when not a PNG. */
function pngSize(png: Uint8Array): { width: number; height: number } | null {
	if (png.length < 24 || PNG_SIGNATURE.some((b, i) => png[i] !== b)) return null;
	if (String.fromCharCode(png[12], png[13], png[14], png[15]) !== 'IHDR') return null;
	const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
	return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

/** Pixels as 8-bit RGB with a stride (3 or 4), so the common RGBA case needs no copy. */
interface Rgb8 {
	width: number;
	height: number;
	data: Uint8Array;
	stride: number;
}

function toRgb8(png: Uint8Array): Rgb8 | string {
	try {
		const img = decode(png);
		const { width, height, channels, depth } = img;
		const src = img.data;
		if (img.palette) {
			// convertIndexedToRgb unpacks low depths and checks every index against the palette.
			return { width, height, data: convertIndexedToRgb(img), stride: img.palette[0]?.length ?? 3 };
		}
		if (depth === 8 && (channels === 3 || channels === 4)) {
			return { width, height, data: src instanceof Uint8Array ? src : new Uint8Array(src.buffer, src.byteOffset, src.byteLength), stride: channels };
		}
		// Rarer encodings (grey, 16-bit, packed low depths) are widened to RGB: an Island may
		// not dodge the comparison by picking an encoding this function skips.
		const out = new Uint8Array(width * height * 3);
		const perRow = Math.ceil((width * depth) / 8); // low depths exist for one-channel grey only
		const max = (1 << depth) - 1;
		for (let y = 0, p = 0; y < height; y++)
			for (let x = 0; x < width; x++, p++) {
				for (let c = 0; c < 3; c++) {
					let v: number;
					if (depth === 16) v = src[p * channels + (channels >= 3 ? c : 0)] >> 8;
					else if (depth === 8) v = src[p * channels + (channels >= 3 ? c : 0)];
					else {
						// Packed grey, scaled up to 0–255.
						const bit = x * depth;
						v = Math.round((((src[y * perRow + (bit >> 3)] >> (8 - depth - (bit & 7))) & max) * 255) / max);
					}
					out[p * 3 + c] = v;
				}
			}
		return { width, height, data: out, stride: 3 };
	} catch (err) {
		return `undecodable PNG (${err instanceof Error ? err.message : String(err)})`;
	}
}

/**
 * Tile edges along one axis: floor(i·size/16). Every model size is a multiple of 64, so tiles
 * are equal and the width/8 cover guarantee above is exact; other sizes get tiles one pixel apart.
 */
function edges(size: number): number[] {
	const tiles = Math.min(TILE_GRID, size);
	return Array.from({ length: tiles + 1 }, (_, i) => Math.floor((i * size) / tiles));
}

/**
 * Compares two PNGs (bytes) tile by tile over RGB, and opacity. Never throws: a size mismatch or a file
 * that does not decode is a `same: false` with the reason.
 */
export function compareImages(a: Uint8Array, b: Uint8Array, options: { threshold?: number } = {}): ImageComparison {
	const t = options.threshold;
	const threshold = typeof t === 'number' && Number.isFinite(t) && t >= 0 ? t : TILE_DISTANCE_THRESHOLD;
	// Pictures that can't be compared count as far apart as any two can be.
	const differ = (reason: string): ImageComparison => ({ same: false, maxTileDistance: 255, worstTile: NO_TILE, threshold, reason });

	// Sizes from the headers first: a mismatch or an oversized image costs no inflating.
	const sa = pngSize(a), sb = pngSize(b);
	if (!sa || !sb) return differ(`undecodable PNG (${!sa ? 'first' : 'second'} image has no PNG header)`);
	if (sa.width !== sb.width || sa.height !== sb.height) return differ(`size differs: ${sa.width}×${sa.height} vs ${sb.width}×${sb.height}`);
	if (sa.width === 0 || sa.height === 0 || sa.width * sa.height > MAX_PIXELS) return differ(`size ${sa.width}×${sa.height} is not comparable`);

	const ia = toRgb8(a);
	if (typeof ia === 'string') return differ(`first image: ${ia}`);
	// Two Islands on the same backend send the same bytes: one decode (to know it is a
	// picture) instead of two, and nothing to compare.
	if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)) {
		const xs = edges(ia.width), ys = edges(ia.height);
		return { same: true, maxTileDistance: 0, worstTile: { x: 0, y: 0, width: xs[1], height: ys[1] }, threshold };
	}
	const ib = toRgb8(b);
	if (typeof ib === 'string') return differ(`second image: ${ib}`);
	if (ia.width !== ib.width || ia.height !== ib.height) return differ(`size differs: ${ia.width}×${ia.height} vs ${ib.width}×${ib.height}`);

	const { width, height } = ia;
	const xs = edges(width), ys = edges(height);
	const tilesX = xs.length - 1;
	const sums = new Float64Array(tilesX * (ys.length - 1));
	const da = ia.data, db = ib.data, pa = ia.stride, pb = ib.stride;
	// Row by row, tile column by tile column: one pass over memory in order, integer sums
	// per row segment (at most 4·255·width, exact in a double). The distance stays in levels
	// of the colour channels (divided by 3): opacity only ever adds to it.
	for (let ty = 0; ty < ys.length - 1; ty++) {
		for (let y = ys[ty]; y < ys[ty + 1]; y++) {
			for (let tx = 0; tx < tilesX; tx++) {
				let s = 0;
				let ia0 = (y * width + xs[tx]) * pa, ib0 = (y * width + xs[tx]) * pb;
				for (let x = xs[tx]; x < xs[tx + 1]; x++, ia0 += pa, ib0 += pb) {
					const d0 = da[ia0] - db[ib0], d1 = da[ia0 + 1] - db[ib0 + 1], d2 = da[ia0 + 2] - db[ib0 + 2];
					// Opacity too (255 where a picture has none): a region made transparent shows
					// whatever lies behind it, a change as real as repainting it.
					const d3 = (pa === 4 ? da[ia0 + 3] : 255) - (pb === 4 ? db[ib0 + 3] : 255);
					s += (d0 < 0 ? -d0 : d0) + (d1 < 0 ? -d1 : d1) + (d2 < 0 ? -d2 : d2) + (d3 < 0 ? -d3 : d3);
				}
				sums[ty * tilesX + tx] += s;
			}
		}
	}

	let max = -1, worst = NO_TILE, worstIndex = { x: 0, y: 0 };
	for (let ty = 0; ty < ys.length - 1; ty++)
		for (let tx = 0; tx < tilesX; tx++) {
			const w = xs[tx + 1] - xs[tx], h = ys[ty + 1] - ys[ty];
			const d = sums[ty * tilesX + tx] / (w * h * 3);
			if (d > max) {
				max = d;
				worst = { x: xs[tx], y: ys[ty], width: w, height: h };
				worstIndex = { x: tx, y: ty };
			}
		}
	const same = max <= threshold;
	const result: ImageComparison = { same, maxTileDistance: max, worstTile: worst, threshold };
	if (!same) {
		result.reason = `tile (${worstIndex.x},${worstIndex.y}) at ${worst.x},${worst.y} (${worst.width}×${worst.height} px) differs by ${max.toFixed(2)} levels, over the threshold of ${threshold}`;
	}
	return result;
}
