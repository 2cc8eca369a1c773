import type { Preview } from '../diffusion/preview';
import { encodePng } from '../diffusion/png';

/**
 * A preview as PNG bytes, upscaled 2× (nearest) when tiny so it reads as a thumbnail;
 * a 64×64 RGBA PNG of a blurry image is a few KB, cheap to send every step.
 */
export function latentPreviewPng(p: Preview): Uint8Array {
	const f = Math.max(1, Math.floor(64 / Math.max(p.width, p.height)));
	if (f === 1) return encodePng(p.rgba, p.width, p.height);
	const w = p.width * f, h = p.height * f;
	const out = new Uint8ClampedArray(w * h * 4);
	for (let y = 0; y < h; y++)
		for (let x = 0; x < w; x++) {
			const s = (Math.floor(y / f) * p.width + Math.floor(x / f)) * 4;
			out.set(p.rgba.subarray(s, s + 4), (y * w + x) * 4);
		}
	return encodePng(out, w, h);
}
