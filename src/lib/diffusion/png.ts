// PNG encoding with generation metadata, in the browser worker and in Node. fast-png does
// the pixels and the Latin-1 tEXt entries; iTXt (for prompts outside Latin-1) is written here
// because fast-png only writes tEXt. Checking PNGs is the broker's job alone
// (src/lib/server/jobs/png-check.ts).
import { encode } from 'fast-png';

export interface ImageMetadata {
	prompt: string;
	negativePrompt?: string;
	seed: number;
	steps: number;
	width: number;
	height: number;
	model: string;
	guidance: number;
}

const LATIN1 = /^[\u0000-\u00ff]*$/;

// The iTXt chunk needs its CRC. This runs in browsers, where node:zlib's crc32 doesn't
// exist, and fast-png keeps its own CRC helper private, so a table CRC (ISO 3309) it is.
let crcTable: Uint32Array | undefined;
function crc32(bytes: Uint8Array, start: number, end: number): number {
	if (!crcTable) {
		crcTable = new Uint32Array(256);
		for (let n = 0; n < 256; n++) {
			let c = n;
			for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
			crcTable[n] = c >>> 0;
		}
	}
	let c = 0xffffffff;
	for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

/** The text entries written for an image; keys are stable (the broker and UI may read them). */
function metadataText(m: ImageMetadata): Record<string, string> {
	const t: Record<string, string> = {
		prompt: m.prompt,
		seed: String(m.seed),
		steps: String(m.steps),
		size: `${m.width}x${m.height}`,
		model: m.model,
		guidance: String(m.guidance),
		Software: 'Archipelago'
	};
	if (m.negativePrompt) t.negative_prompt = m.negativePrompt;
	return t;
}

/** RGBA 8-bit → PNG bytes. Latin-1 entries go in tEXt, others in uncompressed UTF-8 iTXt. */
export function encodePng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, meta?: ImageMetadata): Uint8Array {
	if (rgba.length !== width * height * 4) throw new RangeError('rgba length must be width*height*4');
	const all = meta ? metadataText(meta) : {};
	const latin: Record<string, string> = {};
	const utf8: [string, string][] = [];
	for (const [k, v] of Object.entries(all)) {
		if (LATIN1.test(v)) latin[k] = v;
		else utf8.push([k, v]);
	}
	const png = encode({ width, height, data: rgba, channels: 4, depth: 8, text: latin });
	return utf8.length ? insertBeforeIend(png, utf8.map(([k, v]) => itxtChunk(k, v))) : png;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
	const out = new Uint8Array(12 + data.length);
	const dv = new DataView(out.buffer);
	dv.setUint32(0, data.length);
	for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
	out.set(data, 8);
	dv.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
	return out;
}

function itxtChunk(keyword: string, text: string): Uint8Array {
	const enc = new TextEncoder();
	const key = enc.encode(keyword), body = enc.encode(text);
	// keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL
	const data = new Uint8Array(key.length + 5 + body.length);
	data.set(key, 0);
	data.set(body, key.length + 5);
	return chunk('iTXt', data);
}

function insertBeforeIend(png: Uint8Array, chunks: Uint8Array[]): Uint8Array {
	const iend = png.length - 12; // fast-png always ends with the 12-byte IEND chunk
	const extra = chunks.reduce((n, c) => n + c.length, 0);
	const out = new Uint8Array(png.length + extra);
	out.set(png.subarray(0, iend), 0);
	let o = iend;
	for (const c of chunks) (out.set(c, o), (o += c.length));
	out.set(png.subarray(iend), o);
	return out;
}
