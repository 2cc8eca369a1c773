// The price of an image and the model facts it needs, without zod: the /image page quotes
// with this module from its first paint, and loads the validation schema (generation.ts,
// which pulls zod) only after it is interactive. generation.ts re-exports everything here.
import type { ModelManifest } from './manifest';

/**
 * What a client needs of a model to build a form and quote it (GET /api/models).
 * `variations`: whether it can vary a picture (its manifest lists a VAE encoder);
 * `description` and `examples`: what the model draws, and prompts to start from.
 */
export type PublicModel = Pick<ModelManifest, 'id' | 'name' | 'sizes' | 'steps' | 'guidance' | 'costWeight'> & {
	variations?: boolean;
	description?: string;
	examples?: string[];
};

export function publicModel(m: ModelManifest): PublicModel {
	return {
		id: m.id,
		name: m.name,
		description: m.description,
		examples: m.examples ?? [],
		sizes: m.sizes,
		steps: m.steps,
		guidance: m.guidance,
		costWeight: m.costWeight,
		variations: m.files.vaeEncoder !== undefined
	};
}

export type Tier = 'standard' | 'high';

/** `standard` or `high` by the model's step ranges; null between or outside them. */
export function tierOf(model: PublicModel, steps: number): Tier | null {
	const { standard, high } = model.steps;
	if (steps >= standard[0] && steps <= standard[1]) return 'standard';
	if (steps >= high[0] && steps <= high[1]) return 'high';
	return null;
}

export const COST_RANGE = { standard: [10, 25], high: [25, 50] } as const;

/** How far a variation may move from its input image (0: not at all, 1: a fresh image). */
export const STRENGTH_RANGE = [0.1, 0.9] as const;

/**
 * The denoising steps a variation runs, as diffusers' img2img: its input is noised to the
 * point `strength` of the way up the schedule and only the last `steps × strength` steps
 * are run (at least one). The epsilon keeps 10 × 0.3 from landing on 2.999….
 */
export function variationSteps(steps: number, strength: number): number {
	return Math.min(steps, Math.max(1, Math.floor(steps * strength + 1e-9)));
}

/**
 * The price of an image, shared by the live quote in the browser and the charge on the
 * server. Work grows with pixels and steps, so the price moves linearly from the bottom of
 * the tier (smallest size, fewest steps) to its top (largest size, most steps). A heavier
 * model (costWeight w ∈ [1, 2]) lifts the floor towards the top: x ↦ (x + w − 1) / w, which
 * is ≥ x and keeps the top corner exact.
 */
export function costOf(
	model: PublicModel,
	params: { width: number; height: number; steps: number; variation?: { strength: number } | null }
): { cost: number; tier: Tier } {
	const tier = tierOf(model, params.steps);
	if (!tier) throw new RangeError(`${params.steps} steps is outside ${model.id}'s step ranges`);
	const pixels = model.sizes.map(([w, h]) => w * h);
	const minPx = Math.min(...pixels);
	const maxPx = Math.max(...pixels);
	const px = maxPx > minPx ? clamp01((params.width * params.height - minPx) / (maxPx - minPx)) : 0;
	const [lo, hi] = model.steps[tier];
	const st = hi > lo ? clamp01((params.steps - lo) / (hi - lo)) : 0;
	const work = (px + st) / 2;
	const w = Math.min(2, Math.max(1, model.costWeight));
	const weighted = (work + w - 1) / w;
	const [min, max] = COST_RANGE[tier];
	// Rounding a monotone value keeps it monotone; the epsilon keeps .5 corners stable across float noise.
	const cost = Math.round(min + (max - min) * weighted + 1e-9);
	if (!params.variation) return { cost, tier };
	// A variation pays for the steps it runs: the tier is the quality asked for, the work is less.
	const run = variationSteps(params.steps, params.variation.strength);
	return { cost: Math.max(1, Math.ceil((cost * run) / params.steps - 1e-9)), tier };
}

function clamp01(x: number) {
	return Math.min(1, Math.max(0, x));
}
