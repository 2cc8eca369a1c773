// Manifests for the tiny random ONNX models in tests/fixtures/tiny (made by
// tools/tiny-models/make.py): same names and shapes as the real models, a few KB each.
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ModelManifest } from '../../src/lib/schemas/manifest';
import { parseManifest } from '../../src/lib/diffusion/manifest';

export const TINY_DIR = fileURLToPath(new URL('../fixtures/tiny/', import.meta.url));
export const tinyUrl = (name: 'demo' | 'sdturbo') => pathToFileURL(`${TINY_DIR}${name}/`);

const sizes: [number, number][] = [];
for (let w = 256; w <= 512; w += 64) for (let h = 256; h <= 512; h += 64) sizes.push([w, h]);

/** The demo model's manifest shape over the tiny demo-shaped files. */
export function tinyDemoManifest(): ModelManifest {
	const files = JSON.parse(readFileSync(`${TINY_DIR}demo/files.json`, 'utf8'));
	const f32 = 'float32';
	return parseManifest({
		id: 'tiny-demo',
		name: 'Tiny random (demo-shaped)',
		version: '1',
		costWeight: 1,
		files,
		io: {
			textEncoder: {
				inputs: { input_ids: { type: 'int32', shape: [1, 24] } },
				outputs: { last_hidden_state: { type: f32, shape: [1, 24, 128] } }
			},
			unet: {
				inputs: {
					sample: { type: f32, shape: ['batch', 4, 'h', 'w'] },
					timestep: { type: 'int64', shape: ['batch'] },
					encoder_hidden_states: { type: f32, shape: ['batch', 24, 128] }
				},
				outputs: { out_sample: { type: f32, shape: ['batch', 4, 'h', 'w'] } }
			},
			vaeDecoder: {
				inputs: { latent_sample: { type: f32, shape: [1, 4, 'h', 'w'] } },
				outputs: { sample: { type: f32, shape: [1, 3, 'H', 'W'] } }
			},
			vaeEncoder: {
				inputs: { sample: { type: f32, shape: [1, 3, 'H', 'W'] } },
				outputs: { latent_sample: { type: f32, shape: [1, 4, 'h', 'w'] } }
			}
		},
		tokenizer: { maxLength: 24, padId: 0, bosId: null, eosId: null },
		latent: { channels: 4, downscale: 8, scale: 0.8 },
		scheduler: {
			type: 'ddim', prediction: 'v_prediction', trainTimesteps: 1000,
			betaSchedule: 'squaredcos_cap_v2', betaStart: 0.00085, betaEnd: 0.012, stepsOffset: 1
		},
		sizes,
		steps: { standard: [4, 12], high: [13, 30], default: 8 },
		guidance: { min: 1, max: 12, default: 5 }
	});
}
