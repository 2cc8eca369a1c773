// PNG encode with generation metadata, and a safe validator for PNGs from Islands.
// fast-png does the pixels; the few chunk-level bits (iTXt for non-Latin-1 prompts, a
// header check before any inflate) are done here because fast-png only writes Latin-1 tEXt.
import { decode, encode } from 'fast-png';

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

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const LATIN1 = /^[\u0000-\u00ff]*$/;

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
export function metadataText(m: ImageMetadata): Record<string, string> {
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

interface Chunk { type: string; data: Uint8Array }

/** Walks chunks with length and CRC checks; throws on anything malformed. */
function* chunks(png: Uint8Array): Generator<Chunk> {
	if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) throw new Error('not a PNG (bad signature)');
	const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
	let o = 8;
	while (o + 12 <= png.length) {
		const len = dv.getUint32(o);
		if (o + 12 + len > png.length) throw new Error('truncated PNG chunk');
		const type = String.fromCharCode(png[o + 4], png[o + 5], png[o + 6], png[o + 7]);
		if (crc32(png, o + 4, o + 8 + len) !== dv.getUint32(o + 8 + len)) throw new Error(`bad CRC in ${type}`);
		yield { type, data: png.subarray(o + 8, o + 8 + len) };
		o += 12 + len;
		if (type === 'IEND') return;
	}
	throw new Error('PNG has no IEND');
}

/** Reads tEXt and uncompressed iTXt entries. */
export function readPngText(png: Uint8Array): Record<string, string> {
	const out: Record<string, string> = {};
	const latin1 = new TextDecoder('latin1'), utf8 = new TextDecoder('utf-8', { fatal: true });
	for (const { type, data } of chunks(png)) {
		const nul = data.indexOf(0);
		if (nul < 1) continue;
		const key = latin1.decode(data.subarray(0, nul));
		if (type === 'tEXt') out[key] = latin1.decode(data.subarray(nul + 1));
		else if (type === 'iTXt' && data[nul + 1] === 0) {
			const lang = data.indexOf(0, nul + 3);
			const trans = lang < 0 ? -1 : data.indexOf(0, lang + 1);
			if (trans >= 0) out[key] = utf8.decode(data.subarray(trans + 1));
		}
	}
	return out;
}

export interface PngHeader { width: number; height: number; bitDepth: number; colorType: number }

/** Header only (signature + IHDR): cheap, inflates nothing. */
export function readPngHeader(png: Uint8Array): PngHeader {
	const first = chunks(png).next();
	if (first.done || first.value.type !== 'IHDR' || first.value.data.length !== 13) throw new Error('PNG must start with IHDR');
	const dv = new DataView(first.value.data.buffer, first.value.data.byteOffset, 13);
	return { width: dv.getUint32(0), height: dv.getUint32(4), bitDepth: first.value.data[8], colorType: first.value.data[9] };
}

export type PngCheck = { ok: true; header: PngHeader; text: Record<string, string> } | { ok: false; reason: string };

/**
 * What the broker runs on an Island's upload: signature, every CRC, the exact expected
 * size (checked before inflating, so a tiny file claiming 60000×60000 is refused without
 * allocating), then a full decode so truncated or corrupt image data is caught too.
 */
export function validatePng(png: Uint8Array, expected: { width: number; height: number; maxBytes?: number }): PngCheck {
	try {
		if (expected.maxBytes !== undefined && png.length > expected.maxBytes) return { ok: false, reason: `PNG larger than ${expected.maxBytes} bytes` };
		const header = readPngHeader(png);
		if (header.width !== expected.width || header.height !== expected.height) {
			return { ok: false, reason: `PNG is ${header.width}x${header.height}, expected ${expected.width}x${expected.height}` };
		}
		const text = readPngText(png); // walks every chunk: CRCs and IEND
		const img = decode(png, { checkCrc: true });
		if (img.width !== expected.width || img.height !== expected.height) return { ok: false, reason: 'decoded size mismatch' };
		const want = img.width * img.height * img.channels;
		if (img.data.length !== want) return { ok: false, reason: 'PNG image data incomplete' };
		return { ok: true, header, text };
	} catch (e) {
		return { ok: false, reason: e instanceof Error ? e.message : String(e) };
	}
}
