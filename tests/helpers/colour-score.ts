// Scores an image from its pixels like tools/demo-model/shape_score.py: background = the most
// common of the training palette's colours, shape colour = the most common palette colour
// among pixels far from the background (at least 0.4 % of the image), and the 3×3 cell
// (column, row) holding the centroid of the shape-coloured pixels.
export const PALETTE: Record<string, [number, number, number]> = {
	red: [220, 30, 30],
	orange: [255, 140, 0],
	yellow: [250, 225, 30],
	green: [30, 170, 50],
	cyan: [40, 210, 230],
	blue: [30, 60, 220],
	purple: [130, 40, 170],
	pink: [255, 130, 200],
	white: [245, 245, 245],
	black: [20, 20, 20]
};
const NAMES = Object.keys(PALETTE);

export interface ColourScore {
	background: string;
	shape: string | null;
	/** Share of the image covered by the shape colour. */
	shapeFraction: number;
	/** [column, row] of the shape's centroid on a 3×3 grid; null without a shape. */
	cell: [number, number] | null;
}

/**
 * Each pixel's nearest palette colour, the background (the most common one) and the mask of
 * pixels far (> 60 RGB units) from the background's mean colour: what both scorers start from.
 */
export function paletteClasses(data: ArrayLike<number>, width: number, height: number, channels = 4) {
	const n = width * height;
	const cls = new Uint8Array(n);
	const counts = new Array(NAMES.length).fill(0);
	for (let p = 0; p < n; p++) {
		let best = 0, bestD = Infinity;
		for (let k = 0; k < NAMES.length; k++) {
			const c = PALETTE[NAMES[k]];
			const d = (data[p * channels] - c[0]) ** 2 + (data[p * channels + 1] - c[1]) ** 2 + (data[p * channels + 2] - c[2]) ** 2;
			if (d < bestD) (bestD = d), (best = k);
		}
		cls[p] = best;
		counts[best]++;
	}
	const bg = counts.indexOf(Math.max(...counts));
	const mean = [0, 0, 0];
	for (let p = 0; p < n; p++) if (cls[p] === bg) for (let c = 0; c < 3; c++) mean[c] += data[p * channels + c] / counts[bg];
	const far = new Uint8Array(n);
	for (let p = 0; p < n; p++) {
		const d = (data[p * channels] - mean[0]) ** 2 + (data[p * channels + 1] - mean[1]) ** 2 + (data[p * channels + 2] - mean[2]) ** 2;
		if (d > 60 ** 2) far[p] = 1;
	}
	return { cls, bg, far };
}

export function scoreColours(data: ArrayLike<number>, width: number, height: number, channels = 4): ColourScore {
	const n = width * height;
	const { cls, bg, far } = paletteClasses(data, width, height, channels);
	const fg = new Array(NAMES.length).fill(0);
	let fgTotal = 0;
	for (let p = 0; p < n; p++) if (far[p]) (fg[cls[p]]++, fgTotal++);
	fg[bg] = 0;
	const top = Math.max(...fg);
	const shape = fgTotal >= 0.004 * n && top > 0 ? NAMES[fg.indexOf(top)] : null;
	if (!shape) return { background: NAMES[bg], shape, shapeFraction: top / n, cell: null };
	const sc = fg.indexOf(top);
	let sx = 0, sy = 0, count = 0;
	for (let p = 0; p < n; p++) if (far[p] && cls[p] === sc) (sx += p % width, sy += Math.floor(p / width), count++);
	const cell: [number, number] = [Math.min(2, Math.floor((sx / count / width) * 3)), Math.min(2, Math.floor((sy / count / height) * 3))];
	return { background: NAMES[bg], shape, shapeFraction: top / n, cell };
}
