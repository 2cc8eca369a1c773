import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { decodeInputPng } from './png-decode';
import { encodePng } from './png';

describe('decodeInputPng', () => {
	const rgba = new Uint8ClampedArray(4 * 4 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256));

	it('gives back the RGBA an Island encoded, byte for byte', () => {
		expect(decodeInputPng(encodePng(rgba, 4, 4), 4, 4)).toEqual(rgba);
	});

	it('reads RGB, grey, 16-bit and palette PNGs the broker may have accepted, as opaque RGBA', () => {
		const rgb = new Uint8Array(16 * 3).map((_, i) => i * 5);
		const fromRgb = decodeInputPng(encode({ width: 4, height: 4, data: rgb, channels: 3, depth: 8 }), 4, 4);
		expect([...fromRgb.subarray(0, 8)]).toEqual([0, 5, 10, 255, 15, 20, 25, 255]);
		const grey = decodeInputPng(encode({ width: 4, height: 4, data: new Uint8Array(16).fill(90), channels: 1, depth: 8 }), 4, 4);
		expect([...grey.subarray(0, 4)]).toEqual([90, 90, 90, 255]);
		const deep = decodeInputPng(encode({ width: 4, height: 4, data: new Uint16Array(16 * 4).fill(0xabcd), channels: 4, depth: 16 }), 4, 4);
		expect([...deep.subarray(0, 4)]).toEqual([0xab, 0xab, 0xab, 255]);
		const indexed = encode({ width: 4, height: 4, data: new Uint8Array(16).fill(1), channels: 1, depth: 8, palette: [[0, 0, 0], [200, 100, 50]] });
		expect([...decodeInputPng(indexed, 4, 4).subarray(0, 4)]).toEqual([200, 100, 50, 255]);
	});

	it('refuses another size before inflating anything, and what is not a PNG', () => {
		expect(() => decodeInputPng(encodePng(rgba, 4, 4), 8, 4)).toThrow('the input picture is 4×4, the job is 8×4');
		expect(() => decodeInputPng(new Uint8Array(40), 4, 4)).toThrow('not a PNG');
	});
});
