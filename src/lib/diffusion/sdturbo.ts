// SD-Turbo as a manifest: its weights can't be downloaded here, so the file URLs come from
// configuration (SDTURBO_BASE_URL) and the hashes from a files.json the operator places
// beside the weights (same shape as the manifest's `files`).
import type { ModelManifest } from '../schemas/manifest';
import { fetchBytes, parseManifest, resolveFileUrl, type FetchBytes } from './manifest';

export type ManifestFiles = ModelManifest['files'];

/** Makes a base URL a directory URL so relative file names resolve under it, not beside it. */
function dirUrl(base: string): string {
	return base.endsWith('/') ? base : `${base}/`;
}

/**
 * The SD-Turbo manifest with absolute file URLs under `baseUrl`. `files` gives each file's
 * sha256 and size (and may rename it, relative to baseUrl).
 */
export function buildSdTurboManifest(baseUrl: string, files: ManifestFiles): ModelManifest {
	const base = dirUrl(baseUrl);
	const abs = (key: keyof ManifestFiles) => ({ ...files[key]!, url: resolveFileUrl(base, files[key]!.url).href });
	const f32 = 'float32' as const;
	return parseManifest({
		id: 'sd-turbo',
		name: 'SD-Turbo',
		version: '1',
		description: 'Stability AI SD-Turbo (distilled SD 2.1), 512×512, one step, no guidance.',
		// A general model: the /image page offers these to start from.
		examples: ['a lighthouse on a cliff at sunset, oil painting', 'a cat asleep on a windowsill, photograph', 'a bowl of fruit, watercolour', 'a sailing boat on a calm sea at dawn'],
		// Roughly 40× the demo model's work per image: the heaviest weight the cost allows.
		costWeight: 2,
		files: {
			textEncoder: abs('textEncoder'),
			unet: abs('unet'),
			vaeDecoder: abs('vaeDecoder'),
			tokenizer: abs('tokenizer'),
			// The exported vae_encoder, where files.json lists it: variations need it.
			...(files.vaeEncoder ? { vaeEncoder: abs('vaeEncoder') } : {})
		},
		io: {
			textEncoder: {
				inputs: { input_ids: { type: 'int32', shape: [1, 77] } },
				outputs: { last_hidden_state: { type: f32, shape: [1, 77, 1024] } }
			},
			unet: {
				inputs: {
					sample: { type: f32, shape: ['batch', 4, 64, 64] },
					timestep: { type: 'int64', shape: ['batch'] },
					encoder_hidden_states: { type: f32, shape: ['batch', 77, 1024] }
				},
				outputs: { out_sample: { type: f32, shape: ['batch', 4, 64, 64] } }
			},
			vaeDecoder: {
				inputs: { latent_sample: { type: f32, shape: [1, 4, 64, 64] } },
				outputs: { sample: { type: f32, shape: [1, 3, 512, 512] } }
			},
			// The exporter's encoder gives the latent distribution's mean and log-variance
			// (8 channels); the pipeline takes the mean, so a variation is deterministic.
			...(files.vaeEncoder
				? {
						vaeEncoder: {
							inputs: { sample: { type: f32, shape: [1, 3, 512, 512] } },
							outputs: { latent_parameters: { type: f32, shape: [1, 8, 64, 64] } }
						}
					}
				: {})
		},
		// CLIP: <|startoftext|> 49406, <|endoftext|> 49407, SD 2.x pads with "!" (id 0).
		tokenizer: { maxLength: 77, padId: 0, bosId: 49406, eosId: 49407 },
		latent: { channels: 4, downscale: 8, scale: 0.18215 },
		scheduler: {
			type: 'turbo',
			prediction: 'epsilon',
			trainTimesteps: 1000,
			betaSchedule: 'scaled_linear',
			betaStart: 0.00085,
			betaEnd: 0.012,
			stepsOffset: 0
		},
		sizes: [[512, 512]],
		steps: { standard: [1, 2], high: [3, 4], default: 1 },
		guidance: { min: 0, max: 0, default: 0 }
	});
}

/** Reads `${baseUrl}/files.json` and builds the manifest; null when no base URL is set. */
export async function loadSdTurboManifest(baseUrl: string | undefined, get: FetchBytes = fetchBytes): Promise<ModelManifest | null> {
	if (!baseUrl) return null;
	const raw = await get(new URL('files.json', dirUrl(baseUrl)));
	return buildSdTurboManifest(baseUrl, JSON.parse(new TextDecoder().decode(raw)) as ManifestFiles);
}
