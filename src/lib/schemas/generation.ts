import { z } from './zod';
import { STRENGTH_RANGE, tierOf, type PublicModel } from './cost';

export { COST_RANGE, costOf, publicModel, STRENGTH_RANGE, tierOf, variationSteps, type PublicModel, type Tier } from './cost';

export const UINT32_MAX = 0xffff_ffff;

const strengthMessage = `Strength is a number from ${STRENGTH_RANGE[0]} (close to the picture) to ${STRENGTH_RANGE[1]} (far from it).`;

/**
 * A variation (img2img): one of the requester's own pictures (an images id, as in its
 * imageUrl), noised to `strength` and denoised towards the prompt. The server checks whose
 * picture it is; no upload is accepted.
 */
export const VariationParams = z.strictObject({
	imageId: z.string().min(1, 'Name the picture to vary.').max(64, 'Not a picture id.'),
	strength: z.number({ error: strengthMessage }).min(STRENGTH_RANGE[0], strengthMessage).max(STRENGTH_RANGE[1], strengthMessage)
});
export type VariationParams = z.infer<typeof VariationParams>;

/** The request's shape alone; `paramsSchemaFor` adds what depends on the model. */
export const GenerationParams = z.strictObject({
	prompt: z.string().trim().min(1, 'Write a prompt.').max(500, 'Prompts are at most 500 characters.'),
	negativePrompt: z.string().trim().max(500, 'Negative prompts are at most 500 characters.').optional(),
	model: z.string().min(1).max(40),
	width: z.number().int().positive(),
	height: z.number().int().positive(),
	steps: z.number().int().positive(),
	seed: z.number().int().min(0).max(UINT32_MAX).optional(),
	guidance: z.number().finite().optional(),
	variation: VariationParams.optional()
});
export type GenerationParams = z.infer<typeof GenerationParams>;

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
		if (p.variation && !model.variations) {
			ctx.addIssue({ code: 'custom', path: ['variation'], message: `${model.name} can't make variations; choose another model.` });
		}
		if (p.guidance !== undefined && (p.guidance < model.guidance.min || p.guidance > model.guidance.max)) {
			ctx.addIssue({ code: 'custom', path: ['guidance'], message: `Guidance must be between ${model.guidance.min} and ${model.guidance.max}.` });
		}
	});
}
