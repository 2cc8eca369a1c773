// Which of the demo model's 8 shapes an image shows, from its pixels, like
// classify_shape() in tools/demo-model/shape_score.py: the shape's mask is every pixel far
// (> 60 RGB units) from the background colour; each shape's outline (drawn as
// tools/demo-model/dataset.py draws it) is fitted to the mask's bounding box, with the
// radius scaled by 0.9 / 1 / 1.1, and the shape whose outline overlaps the mask best
// (intersection over union) wins.
import { paletteClasses } from './colour-score';

export const SHAPES = ['circle', 'square', 'triangle', 'star', 'heart', 'diamond', 'cross', 'ring'] as const;
export type Shape = (typeof SHAPES)[number];
type Pt = [number, number];

function starPoints(r: number): Pt[] {
	const pts: Pt[] = [];
	for (let i = 0; i < 10; i++) {
		const a = -Math.PI / 2 + (i * Math.PI) / 5, rr = i % 2 === 0 ? r : r * 0.45;
		pts.push([rr * Math.cos(a), rr * Math.sin(a)]);
	}
	return pts;
}

function heartPoints(r: number): Pt[] {
	const pts: Pt[] = [];
	for (let i = 0; i < 48; i++) {
		const t = (2 * Math.PI * i) / 48;
		const x = 16 * Math.sin(t) ** 3;
		const y = 13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t);
		pts.push([(r * x) / 16.5, (-r * (y + 2.5)) / 15.5]);
	}
	return pts;
}

/** Polygons in units of the radius, centred on (0, 0); null for the shapes tested directly. */
const POLY: Record<Shape, Pt[] | null> = {
	circle: null,
	square: null,
	triangle: [[0, -1], [0.95, 0.75], [-0.95, 0.75]],
	star: starPoints(1.05),
	heart: heartPoints(1),
	diamond: [[0, -1], [0.75, 0], [0, 1], [-0.75, 0]],
	cross: null,
	ring: null
};

function inPolygon(x: number, y: number, p: Pt[]): boolean {
	let inside = false;
	for (let i = 0, j = p.length - 1; i < p.length; j = i++)
		if (p[i][1] > y !== p[j][1] > y && x < ((p[j][0] - p[i][0]) * (y - p[i][1])) / (p[j][1] - p[i][1]) + p[i][0]) inside = !inside;
	return inside;
}

/** Is (x, y), in units of the radius from the centre, inside the shape? */
export function insideShape(shape: Shape, x: number, y: number): boolean {
	const d2 = x * x + y * y;
	switch (shape) {
		case 'circle':
			return d2 <= 1;
		case 'ring':
			return d2 <= 1 && d2 > 0.55 * 0.55;
		case 'square':
			return Math.abs(x) <= 0.85 && Math.abs(y) <= 0.85;
		case 'cross':
			return (Math.abs(x) <= 1 && Math.abs(y) <= 0.33) || (Math.abs(x) <= 0.33 && Math.abs(y) <= 1);
		default:
			return inPolygon(x, y, POLY[shape]!);
	}
}

/** Each shape's bounding box [x0, x1, y0, y1] in units of the radius. */
const BOX: Record<Shape, [number, number, number, number]> = Object.fromEntries(
	SHAPES.map((s) => {
		const p = POLY[s];
		if (!p) return [s, s === 'square' ? [-0.85, 0.85, -0.85, 0.85] : [-1, 1, -1, 1]];
		const xs = p.map((q) => q[0]), ys = p.map((q) => q[1]);
		return [s, [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]];
	})
) as never;

/** The mask of pixels far from the background (the most common palette colour). */
export function foregroundMask(data: ArrayLike<number>, width: number, height: number, channels = 4): Uint8Array {
	return paletteClasses(data, width, height, channels).far;
}

/** 3×3 opening (erode, then dilate): drops one-pixel specks and halos. */
function open3(m: Uint8Array, w: number, h: number): Uint8Array {
	const pass = (src: Uint8Array, erode: boolean) => {
		const out = new Uint8Array(src.length);
		for (let y = 0; y < h; y++)
			for (let x = 0; x < w; x++) {
				let v = erode ? 1 : 0;
				for (let dy = -1; dy <= 1; dy++)
					for (let dx = -1; dx <= 1; dx++) {
						const xx = x + dx, yy = y + dy;
						const s = xx >= 0 && yy >= 0 && xx < w && yy < h ? src[yy * w + xx] : 0;
						v = erode ? v & s : v | s;
					}
				out[y * w + x] = v;
			}
		return out;
	};
	return pass(pass(m, true), false);
}

export interface ShapeScore {
	shape: Shape | null;
	/** Best intersection over union per shape. */
	iou: Partial<Record<Shape, number>>;
}

export function classifyMask(mask: Uint8Array, width: number, height: number): ShapeScore {
	let m = open3(mask, width, height);
	let count = m.reduce((a, v) => a + v, 0);
	if (count < 16) (m = mask), (count = m.reduce((a, v) => a + v, 0));
	if (count < 4) return { shape: null, iou: {} };
	let x0 = width, x1 = 0, y0 = height, y1 = 0;
	for (let p = 0; p < m.length; p++)
		if (m[p]) {
			const x = p % width, y = Math.floor(p / width);
			(x0 = Math.min(x0, x)), (x1 = Math.max(x1, x + 1)), (y0 = Math.min(y0, y)), (y1 = Math.max(y1, y + 1));
		}
	const total = mask.reduce((a, v) => a + v, 0);
	const iou: Partial<Record<Shape, number>> = {};
	let best: Shape | null = null;
	for (const s of SHAPES) {
		const [tx0, tx1, ty0, ty1] = BOX[s];
		const r0 = 0.5 * ((x1 - x0) / (tx1 - tx0) + (y1 - y0) / (ty1 - ty0));
		let top = 0;
		for (const k of [0.9, 1, 1.1]) {
			const r = r0 * k;
			const cx = 0.5 * (x0 + x1) - r * 0.5 * (tx0 + tx1), cy = 0.5 * (y0 + y1) - r * 0.5 * (ty0 + ty1);
			let inter = 0, tcount = 0;
			const bx0 = Math.max(0, Math.floor(cx - 1.2 * r)), bx1 = Math.min(width, Math.ceil(cx + 1.2 * r));
			const by0 = Math.max(0, Math.floor(cy - 1.2 * r)), by1 = Math.min(height, Math.ceil(cy + 1.2 * r));
			for (let y = by0; y < by1; y++)
				for (let x = bx0; x < bx1; x++)
					if (insideShape(s, (x + 0.5 - cx) / r, (y + 0.5 - cy) / r)) (tcount++, (inter += mask[y * width + x]));
			top = Math.max(top, inter / Math.max(1, total + tcount - inter));
		}
		iou[s] = top;
		if (best === null || top > iou[best]!) best = s;
	}
	return { shape: best, iou };
}

/** The shape an RGB(A) image shows: its foreground mask, classified. */
export function scoreShape(data: ArrayLike<number>, width: number, height: number, channels = 4): ShapeScore {
	const mask = foregroundMask(data, width, height, channels);
	if (mask.reduce((a, v) => a + v, 0) < 0.004 * width * height) return { shape: null, iou: {} };
	return classifyMask(mask, width, height);
}
