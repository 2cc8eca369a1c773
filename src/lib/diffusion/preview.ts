// Cheap per-step previews: a linear map from latent channels to RGB, fitted per model from
// the model's own decoder (first on one synthetic latent, then on every finished image).
// This works for any VAE (the demo model's and SD's alike) without hand-made factors, and
// costs ~nothing per step (one multiply-add per latent pixel), unlike decoding every step.
import { createRng } from './rng';

export interface Preview {
	width: number;
	height: number;
	/** RGBA, one pixel per latent cell (image size / downscale). */
	rgba: Uint8ClampedArray;
}

/** 3 rows of (channels + 1) coefficients: rgb = A · latent + b, in [0, 1] units. */
export type LatentRgb = number[][];

/**
 * Least-squares fit of latent → RGB from (latent, decoded image) pairs. Each pair counts
 * equally whatever its size, and older pairs fade, so the first (synthetic) calibration is
 * soon outweighed by the model's real outputs: a decoder is only near-linear around the
 * latents it actually meets.
 */
export class LatentRgbFit {
	readonly channels: number;
	#ata: Float64Array[];
	#atb: Float64Array[];
	#map: LatentRgb | undefined;
	pairs = 0;

	constructor(channels: number) {
		this.channels = channels;
		const n = channels + 1;
		this.#ata = Array.from({ length: n }, () => new Float64Array(n));
		this.#atb = Array.from({ length: 3 }, () => new Float64Array(n));
	}

	/** `latent` [1, C, h, w] in model space; `image` [1, 3, H, W] in [-1, 1]. */
	add(latent: Float32Array, h: number, w: number, image: Float32Array, H: number, W: number, decay = 0.5): void {
		const C = this.channels, n = C + 1, fy = H / h, fx = W / w, weight = 1 / (h * w);
		for (const row of [...this.#ata, ...this.#atb]) for (let i = 0; i < n; i++) row[i] *= decay;
		const f = new Float64Array(n);
		for (let y = 0; y < h; y++) {
			for (let x = 0; x < w; x++) {
				for (let c = 0; c < C; c++) f[c] = latent[(c * h + y) * w + x];
				f[C] = 1;
				for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) this.#ata[i][j] += f[i] * f[j] * weight;
				for (let k = 0; k < 3; k++) {
					let sum = 0;
					for (let yy = y * fy; yy < (y + 1) * fy; yy++)
						for (let xx = x * fx; xx < (x + 1) * fx; xx++) sum += image[(k * H + yy) * W + xx];
					const target = ((sum / (fx * fy) + 1) / 2) * weight;
					for (let i = 0; i < n; i++) this.#atb[k][i] += f[i] * target;
				}
			}
		}
		this.pairs++;
		this.#map = undefined;
	}

	get map(): LatentRgb | undefined {
		if (!this.pairs) return undefined;
		if (!this.#map) {
			const n = this.channels + 1;
			// ridge: keeps a degenerate fit (flat latents) solvable
			const a = this.#ata.map((r, i) => Float64Array.from(r, (v, j) => v + (i === j ? 1e-6 : 0)));
			this.#map = this.#atb.map((b) => solve(a.map((r) => Float64Array.from(r)), Float64Array.from(b)).slice(0, n));
		}
		return this.#map;
	}
}

/** Gaussian elimination with partial pivoting (n ≤ 17: tiny). */
function solve(a: Float64Array[], b: Float64Array): number[] {
	const n = b.length;
	for (let c = 0; c < n; c++) {
		let p = c;
		for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
		[a[c], a[p]] = [a[p], a[c]];
		[b[c], b[p]] = [b[p], b[c]];
		for (let r = c + 1; r < n; r++) {
			const m = a[r][c] / a[c][c];
			for (let k = c; k < n; k++) a[r][k] -= m * a[c][k];
			b[r] -= m * b[c];
		}
	}
	const x = new Array<number>(n).fill(0);
	for (let r = n - 1; r >= 0; r--) {
		let s = b[r];
		for (let k = r + 1; k < n; k++) s -= a[r][k] * x[k];
		x[r] = s / a[r][r];
	}
	return x;
}

export function latentPreview(map: LatentRgb, latent: Float32Array, channels: number, h: number, w: number): Preview {
	const rgba = new Uint8ClampedArray(h * w * 4);
	for (let p = 0; p < h * w; p++) {
		for (let k = 0; k < 3; k++) {
			let v = map[k][channels];
			for (let c = 0; c < channels; c++) v += map[k][c] * latent[c * h * w + p];
			rgba[p * 4 + k] = Math.round(v * 255);
		}
		rgba[p * 4 + 3] = 255;
	}
	return { width: w, height: h, rgba };
}

/**
 * A deterministic calibration latent: unit normal (the scale latents live at), constant over
 * 4×4 blocks because real latents are smooth and a decoder fed pixel noise behaves unlike
 * on images.
 */
export function calibrationLatent(channels: number, h: number, w: number): Float32Array {
	const rng = createRng(0x5eed);
	const bh = Math.ceil(h / 4), bw = Math.ceil(w / 4);
	const blocks = rng.normals(channels * bh * bw);
	const out = new Float32Array(channels * h * w);
	for (let c = 0; c < channels; c++)
		for (let y = 0; y < h; y++)
			for (let x = 0; x < w; x++) out[(c * h + y) * w + x] = blocks[(c * bh + (y >> 2)) * bw + (x >> 2)];
	return out;
}
