// Checks an Island's upload before anything is stored or paid. The size is read from IHDR
// before a byte is inflated, and inflating is capped at the exact size the header implies,
// so a small file that decompresses to gigabytes (a "PNG bomb") costs nothing. This is the
// project's only PNG validator: tests check PNGs with it too.
import { crc32, inflateSync } from 'node:zlib';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
/** Channels per colour type, and the bit depths the PNG spec allows for it. */
const COLOR_TYPES: Record<number, { channels: number; depths: number[] }> = {
	0: { channels: 1, depths: [1, 2, 4, 8, 16] },
	2: { channels: 3, depths: [8, 16] },
	3: { channels: 1, depths: [1, 2, 4, 8] },
	4: { channels: 2, depths: [8, 16] },
	6: { channels: 4, depths: [8, 16] }
};

export type PngVerdict = { ok: true } | { ok: false; reason: string };

export function checkPng(png: Uint8Array, expected: { width: number; height: number }): PngVerdict {
	const fail = (reason: string): PngVerdict => ({ ok: false, reason });
	if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) return fail('not a PNG file');
	const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
	let offset = 8;
	let header: { width: number; height: number; depth: number; color: number; interlace: number } | null = null;
	let sawPalette = false;
	let idatDone = false;
	const idat: Uint8Array[] = [];
	let ended = false;
	while (offset < png.length) {
		if (offset + 12 > png.length) return fail('truncated chunk');
		const length = dv.getUint32(offset);
		if (length > png.length - offset - 12) return fail('chunk runs past the end of the file');
		const typeAndData = png.subarray(offset + 4, offset + 8 + length);
		const type = String.fromCharCode(...typeAndData.subarray(0, 4));
		if (crc32(typeAndData) !== dv.getUint32(offset + 8 + length)) return fail(`bad CRC in ${type}`);
		const data = typeAndData.subarray(4);
		offset += 12 + length;
		if (!header) {
			if (type !== 'IHDR' || length !== 13) return fail('the first chunk must be IHDR');
			const h = new DataView(data.buffer, data.byteOffset, 13);
			header = { width: h.getUint32(0), height: h.getUint32(4), depth: data[8], color: data[9], interlace: data[12] };
			// The cheap checks that protect the expensive one below.
			if (header.width !== expected.width || header.height !== expected.height) {
				return fail(`the image is ${header.width}×${header.height}, the job asked for ${expected.width}×${expected.height}`);
			}
			const kind = COLOR_TYPES[header.color];
			if (!kind || !kind.depths.includes(header.depth)) return fail('unsupported colour type or bit depth');
			if (data[10] !== 0 || data[11] !== 0) return fail('unknown compression or filter method');
			if (header.interlace !== 0) return fail('interlaced PNGs are not accepted');
			continue;
		}
		if (type === 'IHDR') return fail('more than one IHDR');
		if (type === 'PLTE') sawPalette = true;
		else if (type === 'IDAT') {
			if (idatDone) return fail('IDAT chunks must be consecutive');
			idat.push(data);
			continue;
		} else if (type === 'IEND') {
			ended = true;
			break;
		}
		if (idat.length) idatDone = true;
	}
	if (!header) return fail('no IHDR');
	if (!ended) return fail('no IEND (truncated file)');
	if (!idat.length) return fail('no image data');
	if (header.color === 3 && !sawPalette) return fail('palette image without PLTE');

	const rowBytes = Math.ceil((header.width * COLOR_TYPES[header.color].channels * header.depth) / 8);
	const expectedBytes = header.height * (1 + rowBytes);
	let raw: Buffer;
	try {
		raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expectedBytes });
	} catch (err) {
		const code = (err as NodeJS.ErrnoException).code;
		return fail(code === 'ERR_BUFFER_TOO_LARGE' ? 'image data inflates beyond its declared size' : 'corrupt image data');
	}
	if (raw.length !== expectedBytes) return fail('image data is shorter than its declared size');
	for (let y = 0; y < header.height; y++) {
		if (raw[y * (1 + rowBytes)] > 4) return fail('invalid row filter');
	}
	return { ok: true };
}
