import { z } from 'zod';
import type { ModelManifest } from './manifest';

/** What a client needs of a model to build a form and quote it (GET /api/models). */
export type PublicModel = Pick<ModelManifest, 'id' | 'name' | 'sizes' | 'steps' | 'guidance' | 'costWeight'>;

export function publicModel(m: ModelManifest): PublicModel {
	return { id: m.id, name: m.name, sizes: m.sizes, steps: m.steps, guidance: m.guidance, costWeight: m.costWeight };
}

export const UINT32_MAX = 0xffff_ffff;

/** The request's shape alone; `paramsSchemaFor` adds what depends on the model. */
export const GenerationParams = z.strictObject({
	prompt: z.string().trim().min(1, 'Write a prompt.').max(500, 'Prompts are at most 500 characters.'),
	negativePrompt: z.string().trim().max(500, 'Negative prompts are at most 500 characters.').optional(),
	model: z.string().min(1).max(40),
	width: z.number().int().positive(),
	height: z.number().int().positive(),
	steps: z.number().int().positive(),
	seed: z.number().int().min(0).max(UINT32_MAX).optional(),
	guidance: z.number().finite().optional()
});
export type GenerationParams = z.infer<typeof GenerationParams>;

export type Tier = 'standard' | 'high';

/** `standard` or `high` by the model's step ranges; null between or outside them. */
export function tierOf(model: PublicModel, steps: number): Tier | null {
	const { standard, high } = model.steps;
	if (steps >= standard[0] && steps <= standard[1]) return 'standard';
	if (steps >= high[0] && steps <= high[1]) return 'high';
	return null;
}

/** The schema checked against the listed models: size, step range and guidance range. */
export function paramsSchemaFor(models: readonly PublicModel[]) {
	return GenerationParams.superRefine((p, ctx) => {
		const model = models.find((m) => m.id === p.model);
		if (!model) {
			ctx.addIssue({ code: 'custom', path: ['model'], message: `Unknown model; choose one of: ${models.map((m) => m.id).join(', ')}.` });
			return;
		}
		if (!model.sizes.some(([w, h]) => w === p.width && h === p.height)) {
			ctx.addIssue({ code: 'custom', path: ['width'], message: `${p.width}×${p.height} is not a size ${model.name} offers.` });
		}
		if (!tierOf(model, p.steps)) {
			const { standard, high } = model.steps;
			ctx.addIssue({
				code: 'custom',
				path: ['steps'],
				message: `Steps must be ${standard[0]}–${standard[1]} (standard) or ${high[0]}–${high[1]} (high quality).`
			});
		}
		if (p.guidance !== undefined && (p.guidance < model.guidance.min || p.guidance > model.guidance.max)) {
			ctx.addIssue({ code: 'custom', path: ['guidance'], message: `Guidance must be between ${model.guidance.min} and ${model.guidance.max}.` });
		}
	});
}

export const COST_RANGE = { standard: [10, 25], high: [25, 50] } as const;

/**
 * The price of an image, shared by the live quote in the browser and the charge on the
 * server. Work grows with pixels and steps, so the price moves linearly from the bottom of
 * the tier (smallest size, fewest steps) to its top (largest size, most steps). A heavier
 * model (costWeight w ∈ [1, 2]) lifts the floor towards the top: x ↦ (x + w − 1) / w, which
 * is ≥ x and keeps the top corner exact.
 */
export function costOf(model: PublicModel, params: Pick<GenerationParams, 'width' | 'height' | 'steps'>): { cost: number; tier: Tier } {
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
	return { cost: Math.round(min + (max - min) * weighted + 1e-9), tier };
}

function clamp01(x: number) {
	return Math.min(1, Math.max(0, x));
}
