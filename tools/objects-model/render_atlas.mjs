// Rasterises every thing in things.json from the Fluent Emoji Flat SVGs (MIT) into one RGBA
// atlas: a row-major grid of SIZE x SIZE cells, in things.json's order. The training scenes, the
// decoder's reference and both evaluators (Python and the JavaScript test scorer) read it, so
// every picture of a thing is drawn by one well-kept SVG renderer (resvg).
// Usage: node tools/objects-model/render_atlas.mjs [out.png] [cell size]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { getIconData, iconToSVG, iconToHTML } from '@iconify/utils';
import { Resvg } from '@resvg/resvg-js';
import { encode, decode } from 'fast-png';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const icons = require('@iconify-json/fluent-emoji-flat/icons.json');
/** @type {{ things: string[][] }} each thing: its icon name, then the words for it */
export const { things } = JSON.parse(readFileSync(join(here, 'things.json'), 'utf8'));

/**
 * @param {string} name an icon of the set
 * @param {number} size pixels per side
 */
export function renderThing(name, size) {
	const data = getIconData(icons, name);
	if (!data) throw new Error(`no icon ${name}`);
	const { attributes, body } = iconToSVG(data, { width: size, height: size });
	const svg = iconToHTML(body, attributes).replace('<svg ', '<svg xmlns="http://www.w3.org/2000/svg" ');
	const png = new Resvg(svg, { fitTo: { mode: 'width', value: size } }).render().asPng();
	return decode(png); // { width, height, data: RGBA }
}

/** @param {number} size pixels per cell */
export function renderAtlas(size) {
	const cols = Math.ceil(Math.sqrt(things.length));
	const rows = Math.ceil(things.length / cols);
	const out = new Uint8Array(cols * size * rows * size * 4);
	things.forEach(([name], i) => {
		const img = renderThing(name, size);
		if (img.width !== size || img.height !== size || img.channels !== 4) throw new Error(`${name}: ${img.width}x${img.height}x${img.channels}`);
		const ox = (i % cols) * size, oy = Math.floor(i / cols) * size;
		for (let y = 0; y < size; y++) out.set(img.data.subarray(y * size * 4, (y + 1) * size * 4), ((oy + y) * cols * size + ox) * 4);
	});
	return { width: cols * size, height: rows * size, data: out, channels: 4, cols, size, count: things.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const outPath = process.argv[2] ?? join(here, 'work', 'atlas.png');
	const size = Number(process.argv[3] ?? 128);
	const atlas = renderAtlas(size);
	mkdirSync(dirname(outPath), { recursive: true });
	writeFileSync(outPath, encode({ width: atlas.width, height: atlas.height, data: atlas.data, channels: 4 }));
	console.log(`${atlas.count} things, ${atlas.cols} per row, ${size} px cells -> ${outPath}`);
}
