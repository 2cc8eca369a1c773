import { describe, expect, it } from 'vitest';
import { createRng, randomSeed } from './rng';

describe('seeded rng', () => {
	it('same seed → same stream, other seed → other stream', () => {
		expect(createRng(42).normals(1000)).toEqual(createRng(42).normals(1000));
		expect(createRng(42).normals(16)).not.toEqual(createRng(43).normals(16));
	});

	it('is standard normal', () => {
		const x = createRng(7).normals(200_000);
		let m = 0, v = 0;
		for (const a of x) m += a;
		m /= x.length;
		for (const a of x) v += (a - m) ** 2;
		v /= x.length;
		expect(Math.abs(m)).toBeLessThan(0.01);
		expect(Math.abs(v - 1)).toBeLessThan(0.01);
		expect(x.every(Number.isFinite)).toBe(true);
	});

	it('accepts exactly the uint32 seeds', () => {
		expect(() => createRng(0)).not.toThrow();
		expect(() => createRng(0xffffffff)).not.toThrow();
		expect(() => createRng(-1)).toThrow(RangeError);
		expect(() => createRng(2 ** 32)).toThrow(RangeError);
		expect(() => createRng(1.5)).toThrow(RangeError);
		const s = randomSeed();
		expect(Number.isInteger(s) && s >= 0 && s <= 0xffffffff).toBe(true);
	});
});
