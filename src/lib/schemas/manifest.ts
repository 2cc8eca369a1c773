import { z } from './zod';

// One schema for every model (demo and SD-Turbo); see docs/model-format.md.
const Dim = z.union([z.number().int().positive(), z.string().min(1)]);
const TensorSpec = z.object({
	type: z.enum(['float32', 'float16', 'int32', 'int64']),
	shape: z.array(Dim)
});
const SessionIo = z.object({
	inputs: z.record(z.string(), TensorSpec),
	outputs: z.record(z.string(), TensorSpec)
});
const ModelFile = z.object({
	url: z.string().min(1),
	sha256: z.string().regex(/^[0-9a-f]{64}$/),
	bytes: z.number().int().nonnegative()
});
const Range = z.tuple([z.number().int().positive(), z.number().int().positive()]);

/** Example prompts the /image page offers for the model: a handful, each a short prompt. */
export const MAX_EXAMPLES = 8;
export const MAX_EXAMPLE_CHARS = 200;

export const ModelManifest = z.object({
	id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/),
	name: z.string().min(1),
	version: z.string().min(1),
	description: z.string().default(''),
	// Prompts the model draws well, shown on /image when it is chosen. Optional: an export
	// without them still loads (the page then shows none).
	examples: z.array(z.string().trim().min(1).max(MAX_EXAMPLE_CHARS)).max(MAX_EXAMPLES).optional(),
	costWeight: z.number().min(1).max(2),
	files: z.object({
		textEncoder: ModelFile,
		unet: ModelFile,
		vaeDecoder: ModelFile,
		tokenizer: ModelFile,
		// Pixels → latents: only variations (img2img) need it; a model without one makes none.
		vaeEncoder: ModelFile.optional()
	}),
	io: z.object({ textEncoder: SessionIo, unet: SessionIo, vaeDecoder: SessionIo, vaeEncoder: SessionIo.optional() }),
	tokenizer: z.object({
		maxLength: z.number().int().positive(),
		padId: z.number().int().nonnegative(),
		bosId: z.number().int().nonnegative().nullable().default(null),
		eosId: z.number().int().nonnegative().nullable().default(null)
	}),
	latent: z.object({
		channels: z.number().int().positive(),
		downscale: z.number().int().positive(),
		scale: z.number().positive()
	}),
	scheduler: z.object({
		type: z.enum(['ddim', 'turbo']),
		prediction: z.enum(['epsilon', 'v_prediction']),
		trainTimesteps: z.number().int().positive(),
		betaSchedule: z.enum(['scaled_linear', 'squaredcos_cap_v2']),
		betaStart: z.number().positive(),
		betaEnd: z.number().positive(),
		stepsOffset: z.number().int().nonnegative().default(0)
	}),
	sizes: z.array(z.tuple([z.number().int().positive(), z.number().int().positive()])).min(1),
	steps: z
		.object({ standard: Range, high: Range, default: z.number().int().positive() })
		.refine((s) => s.standard[0] <= s.standard[1] && s.standard[1] < s.high[0] && s.high[0] <= s.high[1], {
			message: 'step ranges must be ordered: standard below high'
		}),
	guidance: z.object({ min: z.number(), max: z.number(), default: z.number() })
});
export type ModelManifest = z.infer<typeof ModelManifest>;
