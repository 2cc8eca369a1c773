// Scores a picture of the objects model from its pixels, like tools/objects-model/score.py:
// the background (the median of the outer ring, per half), the 3×3 place of the pixels that
// differ from it, and which thing they are: the nearest of every thing's resvg rendering after
// both go through the same crop (those pixels, squared around their bounding box, 32×32).
import { PALETTE } from './colour-score';
import { renderThing, things } from '../../tools/objects-model/render_atlas.mjs';

type Rgb = [number, number, number];
const NAMES = Object.keys(PALETTE);
const CROP = 32;
const FAR = 60;
export const THINGS: string[] = things.map((t) => t[0]);
export const POSITIONS = ['top left', 'top', 'top right', 'left', 'center', 'right', 'bottom left', 'bottom', 'bottom right'];

export interface ObjectScore {
	top: string;
	bottom: string;
	position: string | null;
	/** Things nearest first; empty when nothing stands out from the background. */
	ranked: string[];
}

const nearestColour = (c: Rgb) => NAMES.reduce((a, b) => (dist2(PALETTE[b], c) < dist2(PALETTE[a], c) ? b : a));
const dist2 = (a: ArrayLike<number>, b: ArrayLike<number>) => (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2;
const median = (v: number[]) => {
	const s = [...v].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Img { data: ArrayLike<number>; width: number; height: number; channels: number }

function ringMedian(img: Img, y0: number, y1: number): Rgb {
	const ring = Math.max(2, Math.floor(Math.min(img.width, img.height) / 64));
	const ch: number[][] = [[], [], []];
	for (let y = y0; y < y1; y++)
		for (let x = 0; x < img.width; x++) {
			if (!(y - y0 < ring || y1 - 1 - y < ring || x < ring || img.width - 1 - x < ring)) continue;
			const p = (y * img.width + x) * img.channels;
			for (let c = 0; c < 3; c++) ch[c].push(img.data[p + c]);
		}
	return ch.map(median) as Rgb;
}

function foreground(img: Img, top: Rgb, bottom: Rgb): Uint8Array {
	const mask = new Uint8Array(img.width * img.height);
	const half = Math.floor(img.height / 2);
	for (let y = 0; y < img.height; y++)
		for (let x = 0; x < img.width; x++) {
			const p = y * img.width + x;
			const px = [img.data[p * img.channels], img.data[p * img.channels + 1], img.data[p * img.channels + 2]];
			mask[p] = dist2(px, y < half ? top : bottom) > FAR * FAR ? 1 : 0;
		}
	return mask;
}

/** The masked pixels, squared around their bounding box on `fill`, box-averaged to CROP×CROP. */
function crop(img: Img, mask: Uint8Array, fill: Rgb, box: [number, number, number, number]): Float32Array {
	const [x0, y0, x1, y1] = box;
	const side = Math.max(x1 - x0, y1 - y0);
	const ox = Math.round((x0 + x1) / 2 - side / 2), oy = Math.round((y0 + y1) / 2 - side / 2);
	const out = new Float32Array(CROP * CROP * 3);
	const count = new Float32Array(CROP * CROP);
	for (let sy = 0; sy < side; sy++)
		for (let sx = 0; sx < side; sx++) {
			const y = oy + sy, x = ox + sx;
			const inside = y >= 0 && x >= 0 && y < img.height && x < img.width && mask[y * img.width + x];
			const q = Math.floor((sy * CROP) / side) * CROP + Math.floor((sx * CROP) / side);
			for (let c = 0; c < 3; c++) out[q * 3 + c] += inside ? img.data[(y * img.width + x) * img.channels + c] : fill[c];
			count[q]++;
		}
	for (let q = 0; q < CROP * CROP; q++) for (let c = 0; c < 3; c++) out[q * 3 + c] /= count[q] || 1;
	return out;
}

function bbox(mask: Uint8Array, width: number): [number, number, number, number] | null {
	let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
	for (let p = 0; p < mask.length; p++)
		if (mask[p]) {
			const x = p % width, y = Math.floor(p / width);
			x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
		}
	return x1 < 0 ? null : [x0, y0, x1, y1];
}

/** A thing drawn by resvg at `size` px, composited on `fill` (RGBA, as a test scene needs it). */
export function thingOn(thing: string, size: number, fill: Rgb): Img & { data: Uint8Array } {
	const { data } = renderThing(thing, size);
	const out = new Uint8Array(size * size * 3);
	for (let p = 0; p < size * size; p++) {
		const a = data[p * 4 + 3] / 255;
		for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(data[p * 4 + c] * a + fill[c] * (1 - a));
	}
	return { data: out, width: size, height: size, channels: 3 };
}

const refs = new Map<string, Float32Array[]>();
function references(bg: string): Float32Array[] {
	let r = refs.get(bg);
	if (!r) {
		const fill = PALETTE[bg];
		r = THINGS.map((t) => {
			const img = thingOn(t, 128, fill);
			const mask = foreground(img, fill, fill);
			const box = bbox(mask, img.width);
			return box ? crop(img, mask, fill, box) : new Float32Array(CROP * CROP * 3).fill(fill[0]);
		});
		refs.set(bg, r);
	}
	return r;
}

export function scoreObject(img: Img): ObjectScore {
	const half = Math.floor(img.height / 2);
	const top = ringMedian(img, 0, half), bottom = ringMedian(img, half, img.height);
	const topName = nearestColour(top), bottomName = nearestColour(bottom);
	const mask = foreground(img, top, bottom);
	const box = bbox(mask, img.width);
	let on = 0;
	for (const m of mask) on += m;
	if (!box || on < 0.002 * img.width * img.height) return { top: topName, bottom: bottomName, position: null, ranked: [] };
	const cell = (f: number) => (f < 0.37 ? 0 : f < 0.63 ? 1 : 2);
	const position = POSITIONS[cell((box[1] + box[3]) / 2 / img.height) * 3 + cell((box[0] + box[2]) / 2 / img.width)];
	const fill: Rgb = topName === bottomName ? PALETTE[topName] : (top.map((v, c) => (v + bottom[c]) / 2) as Rgb);
	const mine = crop(img, mask, fill, box);
	const d = references(topName).map((ref, i) => {
		let s = 0;
		for (let k = 0; k < ref.length; k++) s += (ref[k] - mine[k]) ** 2;
		return [s, i] as const;
	});
	d.sort((a, b) => a[0] - b[0]);
	return { top: topName, bottom: bottomName, position, ranked: d.map(([, i]) => THINGS[i]) };
}
