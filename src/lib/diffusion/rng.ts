// Seeded noise. The pipeline owns its PRNG (not Math.random, not the runtime's RandomNormal)
// so that the same seed + params give byte-identical images on the same backend, and the
// browser and Node Islands draw the very same initial latents.

export interface Rng {
	/** Uniform float in [0, 1). */
	next(): number;
	/** Standard normal (Box–Muller). */
	normal(): number;
	/** Fill a new Float32Array with standard normal values. */
	normals(n: number): Float32Array;
}

/** splitmix32: spreads a uint32 seed so nearby seeds (1, 2, 3…) give unrelated streams. */
function splitmix32(state: number): () => number {
	let s = state >>> 0;
	return () => {
		s = (s + 0x9e3779b9) >>> 0;
		let z = s;
		z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
		z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
		return (z ^ (z >>> 16)) >>> 0;
	};
}

/**
 * sfc32 generator (128-bit state, passes PractRand to 2^40+) seeded through splitmix32.
 * Pure 32-bit integer maths, so the stream is identical on every JS engine.
 */
export function createRng(seed: number): Rng {
	if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
		throw new RangeError(`seed must be a uint32, got ${seed}`);
	}
	const sm = splitmix32(seed);
	let a = sm(), b = sm(), c = sm(), d = sm();
	const nextU32 = (): number => {
		const t = (((a + b) >>> 0) + d) >>> 0;
		d = (d + 1) >>> 0;
		a = b ^ (b >>> 9);
		b = (c + (c << 3)) >>> 0;
		c = ((c << 21) | (c >>> 11)) >>> 0;
		c = (c + t) >>> 0;
		return t;
	};
	for (let i = 0; i < 12; i++) nextU32(); // discard the warm-up outputs
	// Box–Muller yields two normals per pair of uniforms; keep the spare.
	let spare: number | null = null;
	const next = (): number => nextU32() / 4294967296;
	const normal = (): number => {
		if (spare !== null) {
			const s = spare;
			spare = null;
			return s;
		}
		// 1 - u keeps the argument of log in (0, 1], never log(0).
		const u1 = 1 - next();
		const u2 = next();
		const r = Math.sqrt(-2 * Math.log(u1));
		spare = r * Math.sin(2 * Math.PI * u2);
		return r * Math.cos(2 * Math.PI * u2);
	};
	return {
		next,
		normal,
		normals(n) {
			const out = new Float32Array(n);
			for (let i = 0; i < n; i++) out[i] = normal();
			return out;
		}
	};
}

/** A random uint32 seed for requests that didn't give one (recorded with the image). */
export function randomSeed(): number {
	const buf = new Uint32Array(1);
	globalThis.crypto.getRandomValues(buf);
	return buf[0];
}
