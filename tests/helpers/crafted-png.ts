import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Uint8Array) {
	const out = Buffer.alloc(12 + data.length);
	out.writeUInt32BE(data.length, 0);
	out.write(type, 4, 'latin1');
	Buffer.from(data).copy(out, 8);
	out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
	return out;
}

/**
 * A PNG with an honest `width`×`height` RGBA header whose image data inflates to `inflated`
 * bytes: a decompression bomb when that is huge, an impossible header when the size is.
 */
export function craftedPng(width: number, height: number, inflated: number) {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = 8;
	ihdr[9] = 6;
	const sig = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
	return new Uint8Array(
		Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(inflated), { level: 9 })), chunk('IEND', new Uint8Array())])
	);
}
