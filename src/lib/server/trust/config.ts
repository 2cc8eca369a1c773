// The knobs of Island trust (docs/trust.md), read from the environment at each use so tests
// and operators can set them per process. Defaults are the product's: probation on, spot
// checks on, escrow on.

function envNumber(name: string, fallback: number, { min = 0, max = Infinity } = {}, env = process.env): number {
	const raw = env[name];
	if (raw === undefined || raw === '') return fallback;
	const n = Number(raw);
	return Number.isFinite(n) && n >= min && n <= max ? n : fallback;
}

export function trustConfig(env: NodeJS.ProcessEnv = process.env) {
	return {
		/** Canaries a new Island must pass before it runs a requester's job (0: no probation). */
		probationCanaries: Math.floor(envNumber('TRUST_PROBATION_CANARIES', 3, { max: 100 }, env)),
		/** The share of a trusted Island's jobs re-computed by another owner's Island. */
		spotCheckRate: envNumber('TRUST_SPOT_CHECK_RATE', 0.05, { max: 1 }, env),
		/** The rate for an Island in its first weeks, when a liar is likeliest to show itself. */
		newIslandSpotCheckRate: envNumber('TRUST_NEW_ISLAND_SPOT_CHECK_RATE', 0.1, { max: 1 }, env),
		newIslandDays: envNumber('TRUST_NEW_ISLAND_DAYS', 14, {}, env),
		/** How long earnings sit in escrow before they reach the owner's balance. */
		escrowWindowMs: envNumber('TRUST_ESCROW_WINDOW_HOURS', 72, {}, env) * 3_600_000,
		/** Leases one Island holds at once: one model run at a time. */
		maxLeasesPerIsland: Math.max(1, Math.floor(envNumber('ISLAND_MAX_LEASES', 1, { min: 1, max: 64 }, env))),
		/** Attempts an Island gave up or dropped before it counts as suspicious, then quarantined (see failures.ts). */
		suspiciousAfterFailures: Math.floor(envNumber('TRUST_SUSPICIOUS_AFTER_FAILURES', 5, { min: 1 }, env)),
		quarantineAfterFailures: Math.floor(envNumber('TRUST_QUARANTINE_AFTER_FAILURES', 20, { min: 1 }, env)),
		/** A suspicious Island's claims wait this long, so honest Islands take the work first. */
		suspiciousClaimDelayMs: envNumber('TRUST_SUSPICIOUS_CLAIM_DELAY_MS', 3_000, {}, env),
		/** Canaries kept per model (a larger pool is harder to learn by heart). */
		canaryPoolSize: Math.max(1, Math.floor(envNumber('TRUST_CANARY_POOL', 24, { min: 1, max: 1000 }, env)))
	};
}

export type TrustConfig = ReturnType<typeof trustConfig>;

/**
 * Megapixel-steps per second above which a result is faster than the claimed backend can
 * physically produce (docs/trust.md "Speed"), per model and backend, with a wide margin over
 * the fastest hardware we know of. Such a result is checked at once (AI Horde's
 * UNREASONABLY_FAST). Unknown models get the demo model's bounds.
 */
export const SPEED_BOUNDS: Record<string, Record<'node' | 'wasm' | 'webgpu', number>> = {
	// The built-in models (both on 16× designed latents since 2026-11-27): 256×256 × 12 steps
	// in 210–253 ms through onnxruntime-node on 2 busy CPU cores, ~3–4 MP·steps/s
	// (tools/*/check_onnx.mjs); about 20× that leaves room for fast CPUs.
	demo: { node: 80, wasm: 80, webgpu: 800 },
	objects: { node: 80, wasm: 80, webgpu: 800 },
	// SD-Turbo: a UNet of ~860 M parameters; the fastest consumer GPUs do ~20 MP·steps/s.
	'sd-turbo': { node: 2, wasm: 1, webgpu: 40 }
};

/** TRUST_SPEED_BOUND_FACTOR scales every bound (an operator with unusual hardware; tests). */
export function speedBound(model: string, backend: string | null, env: NodeJS.ProcessEnv = process.env): number {
	const bounds = SPEED_BOUNDS[model] ?? SPEED_BOUNDS.demo;
	const factor = envNumber('TRUST_SPEED_BOUND_FACTOR', 1, { min: 1e-6 }, env);
	return (bounds[(backend ?? 'webgpu') as keyof typeof bounds] ?? bounds.webgpu) * factor;
}
