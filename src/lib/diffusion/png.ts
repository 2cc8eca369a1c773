// PNG encoding with generation metadata, in the browser worker and in Node. The pixels are
// deflated natively where the platform has a deflate: Node's zlib (synchronous, found at run
// time so that no node: import reaches browser code) or, in a browser, CompressionStream
// (asynchronous: encodePngAsync). fast-png's JavaScript deflate, about 10× slower, is left
// for a platform with neither and for the small step previews in a browser. The same pixels
// on the same platform always give the same bytes. Checking PNGs is the broker's job alone
// (src/lib/server/jobs/png-check.ts).
import { encode } from 'fast-png';

/** zlib-format deflate (RFC 1950) of the filtered rows: what the IDAT chunk holds. */
export type Deflate = (rows: Uint8Array) => Uint8Array;
export type AsyncDeflate = (rows: Uint8Array) => Promise<Uint8Array>;

// zlib level 4 behind the Sub filter, measured on the demo model's 256² and 512² images (CPU
// ms, KB): level 1 is 2.2 ms but 15 % larger; level 3 is both slower and larger than 4 (its
// longer match chains without lazy matching); level 6 is 15 % smaller but three times slower.
// Level 4: about 4 ms and 61–69 KB at 256², where fast-png took 12–18 ms for 77–104 KB.
const LEVEL = 4;

type NodeZlib = { deflateSync(data: Uint8Array, options: { level: number }): Uint8Array };
const nodeZlib = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:zlib') as NodeZlib | undefined;

/** Node's zlib, or undefined outside Node. */
export const nodeDeflate: Deflate | undefined = nodeZlib && ((rows) => nodeZlib.deflateSync(rows, { level: LEVEL }));

/** The platform's CompressionStream (browsers, their workers, Node), or undefined. Its level is the platform's. */
export const streamDeflate: AsyncDeflate | undefined =
	typeof CompressionStream === 'function'
		? async (rows) => new Uint8Array(await new Response(new Blob([rows as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate'))).arrayBuffer())
		: undefined;

export interface ImageMetadata {
	prompt: string;
	negativePrompt?: string;
	seed: number;
	steps: number;
	width: number;
	height: number;
	model: string;
	guidance: number;
	/** A variation's strength (its input picture is not named: that is the requester's business). */
	strength?: number;
}

const LATIN1 = /^[\u0000-\u00ff]*$/;

// Chunks need their CRC. This runs in browsers, where node:zlib's crc32 doesn't exist, and
// fast-png keeps its own CRC helper private, so a table CRC (ISO 3309) it is.
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
	if (m.strength !== undefined) t.strength = String(m.strength);
	return t;
}

/**
 * RGBA 8-bit → PNG bytes. Latin-1 entries go in tEXt, others in uncompressed UTF-8 iTXt.
 * `deflate` null: fast-png's JavaScript deflate (the only choice in a browser when synchronous).
 */
export function encodePng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, meta?: ImageMetadata, deflate: Deflate | null = nodeDeflate ?? null): Uint8Array {
	if (rgba.length !== width * height * 4) throw new RangeError('rgba length must be width*height*4');
	if (!deflate) return encodeWithFastPng(rgba, width, height, meta);
	return assemble(width, height, deflate(subFiltered(rgba, width, height)), meta);
}

/** encodePng with the platform's native deflate, synchronous (Node) or not (CompressionStream). */
export async function encodePngAsync(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, meta?: ImageMetadata, deflate: Deflate | AsyncDeflate | null = nodeDeflate ?? streamDeflate ?? null): Promise<Uint8Array> {
	if (rgba.length !== width * height * 4) throw new RangeError('rgba length must be width*height*4');
	if (!deflate) return encodeWithFastPng(rgba, width, height, meta);
	return assemble(width, height, await deflate(subFiltered(rgba, width, height)), meta);
}

/** Latin-1 entries (tEXt) and the others (iTXt), in a fixed order. */
function textEntries(meta?: ImageMetadata) {
	const latin: Record<string, string> = {};
	const utf8: [string, string][] = [];
	for (const [k, v] of Object.entries(meta ? metadataText(meta) : {})) {
		if (LATIN1.test(v)) latin[k] = v;
		else utf8.push([k, v]);
	}
	return { latin, utf8 };
}

function encodeWithFastPng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, meta?: ImageMetadata): Uint8Array {
	const { latin, utf8 } = textEntries(meta);
	const png = encode({ width, height, data: rgba, channels: 4, depth: 8, text: latin });
	return utf8.length ? insertBeforeIend(png, utf8.map(([k, v]) => itxtChunk(k, v))) : png;
}

/**
 * Each row behind filter byte 1 (Sub: each byte minus the same channel of the pixel to its
 * left). Generated images change smoothly from pixel to pixel, so this shrinks them by about
 * a fifth for the cost of one pass; choosing a filter per row would cost far more.
 */
function subFiltered(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
	const row = width * 4;
	const out = new Uint8Array(height * (row + 1));
	for (let y = 0, s = 0, o = 0; y < height; y++) {
		out[o++] = 1;
		for (let i = 0; i < 4; i++) out[o++] = rgba[s++];
		// A Uint8Array stores the difference modulo 256, as the filter wants.
		for (let i = 4; i < row; i++, s++) out[o++] = rgba[s] - rgba[s - 4];
	}
	return out;
}

/** Signature, IHDR, IDAT, tEXt and iTXt entries, IEND: the chunk order fast-png wrote. */
function assemble(width: number, height: number, idat: Uint8Array, meta?: ImageMetadata): Uint8Array {
	const header = new Uint8Array(13);
	const dv = new DataView(header.buffer);
	dv.setUint32(0, width);
	dv.setUint32(4, height);
	header.set([8, 6, 0, 0, 0], 8); // depth 8, RGBA, deflate, adaptive filtering, no interlace
	const { latin, utf8 } = textEntries(meta);
	const chunks = [
		chunk('IHDR', header),
		chunk('IDAT', idat),
		...Object.entries(latin).map(([k, v]) => textChunk(k, v)),
		...utf8.map(([k, v]) => itxtChunk(k, v)),
		chunk('IEND', new Uint8Array())
	];
	const out = new Uint8Array(SIGNATURE.length + chunks.reduce((n, c) => n + c.length, 0));
	out.set(SIGNATURE, 0);
	let o = SIGNATURE.length;
	for (const c of chunks) (out.set(c, o), (o += c.length));
	return out;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** keyword NUL text, both Latin-1 (the keywords are ours and short; the text was checked). */
function textChunk(keyword: string, text: string): Uint8Array {
	const data = new Uint8Array(keyword.length + 1 + text.length);
	for (let i = 0; i < keyword.length; i++) data[i] = keyword.charCodeAt(i);
	for (let i = 0; i < text.length; i++) data[keyword.length + 1 + i] = text.charCodeAt(i);
	return chunk('tEXt', data);
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
