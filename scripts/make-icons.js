// Renders the PWA icons from the one source drawing, tools/icons/island.svg:
//   node scripts/make-icons.js
// The outputs in static/icons/ are committed (the build never runs this), so re-run it and
// commit the PNGs after changing the drawing.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const root = new URL('..', import.meta.url).pathname;
const source = readFileSync(join(root, 'tools/icons/island.svg'), 'utf8');
const out = join(root, 'static/icons');

// The drawing is full-bleed with its motif inside the maskable safe zone, so it is the
// maskable icon as it stands; the plain ("any") icons get rounded corners, because
// browsers show those unmasked.
const openTag = source.match(/<svg[^>]*>/)?.[0];
if (!openTag) throw new Error('tools/icons/island.svg: no <svg> element');
const rounded = source
	.replace(openTag, `${openTag}<clipPath id="rounded"><rect width="512" height="512" rx="112"/></clipPath><g clip-path="url(#rounded)">`)
	.replace(/<\/svg>\s*$/, '</g></svg>\n');

/** @param {string} svg @param {number} size @param {string} name */
async function render(svg, size, name) {
	// Rasterise at the target size (density scales the 512-unit viewBox), not by downscaling.
	const png = await sharp(Buffer.from(svg), { density: (72 * size) / 512 })
		.resize(size, size)
		.png({ compressionLevel: 9, palette: false })
		.toBuffer();
	writeFileSync(join(out, name), png);
	console.log(`static/icons/${name} (${size}×${size}, ${png.length} bytes)`);
}

mkdirSync(out, { recursive: true });
await render(rounded, 192, 'icon-192.png');
await render(rounded, 512, 'icon-512.png');
await render(source, 192, 'maskable-192.png');
await render(source, 512, 'maskable-512.png');
// iOS masks home-screen icons itself and ignores the manifest's icons.
await render(source, 180, 'apple-touch-icon.png');
writeFileSync(join(out, 'icon.svg'), rounded);
console.log('static/icons/icon.svg (favicon)');
