// Reads the text entries an Island's encoder wrote (src/lib/diffusion/png.ts), for tests that
// check the params travel with the image. It trusts its input: validity is checkPng's job
// (src/lib/server/jobs/png-check.ts), so this only walks chunks, without CRC checks.

/** tEXt and uncompressed iTXt entries, by keyword. */
export function readPngText(png: Uint8Array): Record<string, string> {
	const out: Record<string, string> = {};
	const latin1 = new TextDecoder('latin1');
	const utf8 = new TextDecoder('utf-8', { fatal: true });
	const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
	for (let o = 8; o + 12 <= png.length; ) {
		const length = dv.getUint32(o);
		const type = latin1.decode(png.subarray(o + 4, o + 8));
		const data = png.subarray(o + 8, o + 8 + length);
		o += 12 + length;
		const nul = data.indexOf(0);
		if (nul < 1) continue;
		const key = latin1.decode(data.subarray(0, nul));
		if (type === 'tEXt') out[key] = latin1.decode(data.subarray(nul + 1));
		else if (type === 'iTXt' && data[nul + 1] === 0) {
			// keyword NUL, compression flag, method, language tag NUL, translated keyword NUL, text
			const lang = data.indexOf(0, nul + 3);
			const translated = lang < 0 ? -1 : data.indexOf(0, lang + 1);
			if (translated >= 0) out[key] = utf8.decode(data.subarray(translated + 1));
		}
	}
	return out;
}
