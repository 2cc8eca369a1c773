// The fast chaos Islands' stand-in for the model (scripts/chaos-island.ts) and the lies a liar
// among them tells. Shared with the chaos run, which recomputes the honest picture of every
// requester's job at the end to count the wrong ones still shown.
import { decode } from 'fast-png';

/** FNV-1a of the prompt: jobs with the same size and seed but another prompt draw another picture. */
function promptHash(prompt: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < prompt.length; i++) h = Math.imul(h ^ prompt.charCodeAt(i), 0x01000193);
	return h >>> 0;
}

/**
 * Deterministic per (size, seed, prompt), like the real pipeline, so honest Islands agree to
 * the bit and the broker's comparisons see a liar's picture as different.
 */
export function gradient(width: number, height: number, seed: number, prompt: string): Uint8ClampedArray {
	const rgba = new Uint8ClampedArray(width * height * 4);
	const h = promptHash(prompt);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			rgba[i] = (x + seed) & 255;
			rgba[i + 1] = (y + (seed >>> 8)) & 255;
			rgba[i + 2] = ((x ^ y) + h) & 255;
			rgba[i + 3] = 255;
		}
	}
	return rgba;
}

export interface PictureRequest {
	width: number;
	height: number;
	seed: number;
	prompt: string;
}

/**
 * A liar's picture, two kinds in turn: another valid picture (another seed and prompt, what
 * an Island that skips the work returns), or the honest one with a square of side width/8
 * inverted (1/64 of the image, the smallest change the broker's comparison promises to see).
 */
export function lie(req: PictureRequest, n: number): Uint8ClampedArray {
	if (n % 2 === 0) return gradient(req.width, req.height, (req.seed + 128) >>> 0, `${req.prompt} (made up)`);
	const rgba = gradient(req.width, req.height, req.seed, req.prompt);
	const side = Math.floor(req.width / 8);
	const x0 = req.seed % (req.width - side);
	const y0 = (req.seed >>> 8) % (req.height - side);
	for (let y = y0; y < y0 + side; y++) {
		for (let x = x0; x < x0 + side; x++) {
			const i = (y * req.width + x) * 4;
			for (let c = 0; c < 3; c++) rgba[i + c] = 255 - rgba[i + c];
		}
	}
	return rgba;
}

/** Whether a PNG shows exactly the honest picture for these params (RGB, to the bit). */
export function isHonestPicture(png: Uint8Array, req: PictureRequest): boolean {
	const image = decode(png);
	if (image.width !== req.width || image.height !== req.height || image.depth !== 8) return false;
	const channels = image.channels;
	if (channels < 3) return false;
	const want = gradient(req.width, req.height, req.seed, req.prompt);
	const data = image.data;
	for (let p = 0; p < req.width * req.height; p++) {
		for (let c = 0; c < 3; c++) if (data[p * channels + c] !== want[p * 4 + c]) return false;
	}
	return true;
}
