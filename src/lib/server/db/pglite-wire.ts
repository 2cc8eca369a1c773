// PGlite's wire protocol, the two messages a prepared statement's run needs, written and read
// by hand: PGlite's own serializer and parser were most of its JavaScript per statement
// (docs/broker-costs.md). Everything else (Parse, Describe, errors) stays with PGlite's.

/** Bind (all parameters and columns as text), Execute and Sync for a named statement, in one buffer. */
export function bindExecuteSync(statement: string, values: readonly (string | null)[]): Uint8Array {
	const nameBytes = Buffer.byteLength(statement);
	let bindLength = 4 + 1 + nameBytes + 1 + 2 + 2 * values.length + 2 + 2;
	for (const v of values) bindLength += 4 + (v === null ? 0 : Buffer.byteLength(v));
	const out = Buffer.allocUnsafe(1 + bindLength + EXECUTE_SYNC.length);
	let at = out.writeUInt8(0x42 /* B */, 0);
	at = out.writeInt32BE(bindLength, at);
	out[at++] = 0; // the unnamed portal
	at += out.write(statement, at);
	out[at++] = 0;
	// One format code per parameter, each 0 (text), as PGlite's serializer writes them.
	at = out.writeUInt16BE(values.length, at);
	out.fill(0, at, (at += 2 * values.length));
	at = out.writeUInt16BE(values.length, at);
	for (const v of values) {
		if (v === null) {
			at = out.writeInt32BE(-1, at);
			continue;
		}
		const length = out.write(v, at + 4);
		at = out.writeInt32BE(length, at) + length;
	}
	at = out.writeInt16BE(0, at); // no result format codes: all text
	out.set(EXECUTE_SYNC, at);
	return out;
}

/** Execute the unnamed portal, all rows ('E', length 9, "", 0), then Sync ('S', length 4). */
const EXECUTE_SYNC = Buffer.from([0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0x53, 0, 0, 0, 4]);

/** One statement's answer: its rows' fields as the wire gives them (text, or null), and its command tag. */
export interface Answer {
	rows: (string | null)[][];
	tag: string | null;
}

const utf8 = new TextDecoder();
const [DATA_ROW, COMMAND_COMPLETE] = [...'DC'].map((c) => c.charCodeAt(0));
/** The other messages an executed statement answers with when all went well: bind complete, ready, empty query, no data, suspended. */
const UNEVENTFUL = new Set([...'2ZIns'].map((c) => c.charCodeAt(0)));

/**
 * Reads a Bind/Execute/Sync answer straight from its bytes, each field decoded where it lies.
 * PGlite's own parser copies every field into an ArrayBuffer of its own before decoding it
 * (its largest cost in JavaScript, docs/broker-costs.md). Null when the answer holds anything
 * else (an error, a notice), which PGlite's parser then reads.
 */
export function readAnswer(bytes: Uint8Array): Answer | null {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const rows: (string | null)[][] = [];
	let tag: string | null = null;
	for (let at = 0; at < bytes.length; at += 1 + view.getInt32(at + 1)) {
		const type = bytes[at];
		const body = at + 5;
		if (type === DATA_ROW) {
			const row: (string | null)[] = new Array(view.getInt16(body));
			for (let i = 0, p = body + 2; i < row.length; i++) {
				const length = view.getInt32(p);
				p += 4;
				row[i] = length < 0 ? null : utf8.decode(bytes.subarray(p, (p += length)));
			}
			rows.push(row);
		} else if (type === COMMAND_COMPLETE) {
			// A C string: the message's last byte is its terminating zero.
			tag = utf8.decode(bytes.subarray(body, at + view.getInt32(at + 1)));
		} else if (!UNEVENTFUL.has(type)) return null;
	}
	return { rows, tag };
}
