// Pixels ↔ the tensors the VAE takes and gives: [1, 3, H, W] float32 in [-1, 1], channel-major.
import type { Preview } from './preview';

/** [1, 3, H, W] in [-1, 1] averaged down to h × w RGBA. */
export function blockAverage(chw: Float32Array, H: number, W: number, h: number, w: number): Preview {
	const fy = H / h, fx = W / w, rgba = new Uint8ClampedArray(h * w * 4);
	for (let y = 0; y < h; y++)
		for (let x = 0; x < w; x++) {
			for (let c = 0; c < 3; c++) {
				let sum = 0;
				for (let yy = y * fy; yy < (y + 1) * fy; yy++) for (let xx = x * fx; xx < (x + 1) * fx; xx++) sum += chw[(c * H + yy) * W + xx];
				rgba[(y * w + x) * 4 + c] = Math.round(((sum / (fx * fy) + 1) / 2) * 255);
			}
			rgba[(y * w + x) * 4 + 3] = 255;
		}
	return { width: w, height: h, rgba };
}

/** [1, 3, H, W] in [-1, 1] → RGBA bytes (rounded, so equal floats give equal bytes). */
export function toRgba(chw: Float32Array, width: number, height: number): Uint8ClampedArray {
	const plane = width * height;
	if (chw.length !== 3 * plane) throw new Error(`decoder gave ${chw.length} values, expected ${3 * plane}`);
	const out = new Uint8ClampedArray(plane * 4);
	for (let p = 0; p < plane; p++) {
		for (let c = 0; c < 3; c++) {
			const v = (chw[c * plane + p] + 1) / 2;
			out[p * 4 + c] = Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
		}
		out[p * 4 + 3] = 255;
	}
	return out;
}

/**
 * RGBA bytes → [1, 3, H, W] in [-1, 1] (v / 127.5 − 1, as the demo model's training and
 * diffusers' preprocessing both do); alpha is dropped. Exact in float32, so every backend
 * encodes the very same numbers.
 */
export function fromRgba(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Float32Array {
	const plane = width * height;
	if (rgba.length !== 4 * plane) throw new RangeError(`the input image has ${rgba.length / 4} pixels, expected ${width}×${height}`);
	const out = new Float32Array(3 * plane);
	for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = rgba[p * 4 + c] / 127.5 - 1;
	return out;
}
