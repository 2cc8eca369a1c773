// A variation's input picture, as the Island receives it from the broker: a PNG the broker
// once accepted as a result (src/lib/server/jobs/png-check.ts) → RGBA 8-bit for the pipeline.
// Every Island decodes the same bytes with the same code, so they all vary the same pixels.
import { convertIndexedToRgb, decode } from 'fast-png';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** PNG bytes → RGBA, refusing anything but a `width` × `height` picture. */
export function decodeInputPng(png: Uint8Array, width: number, height: number): Uint8ClampedArray {
	if (png.length < 33 || SIGNATURE.some((b, i) => png[i] !== b)) throw new Error('the input picture is not a PNG');
	// The size from IHDR before anything is inflated: the wrong picture costs nothing to refuse.
	const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
	const [w, h] = [dv.getUint32(16), dv.getUint32(20)];
	if (w !== width || h !== height) throw new Error(`the input picture is ${w}×${h}, the job is ${width}×${height}`);
	const img = decode(png);
	const plane = width * height;
	const out = new Uint8ClampedArray(plane * 4);
	if (img.palette) {
		const rgb = convertIndexedToRgb(img);
		const ch = rgb.length / plane;
		for (let p = 0; p < plane; p++) for (let c = 0; c < 4; c++) out[p * 4 + c] = c < 3 ? rgb[p * ch + c] : 255;
		return out;
	}
	if (img.depth !== 8 && img.depth !== 16) throw new Error(`input pictures of ${img.depth}-bit depth are not supported`);
	const ch = img.channels, data = img.data;
	// 16-bit samples keep their high byte, so equal bytes on every Island give equal pixels.
	const shift = img.depth === 16 ? 8 : 0;
	for (let p = 0; p < plane; p++) {
		const grey = ch < 3;
		for (let c = 0; c < 3; c++) out[p * 4 + c] = data[p * ch + (grey ? 0 : c)] >> shift;
		out[p * 4 + 3] = 255;
	}
	return out;
}
