// A fast headless Island for chaos runs: the real HeadlessIsland (claim loop, heartbeat,
// progress throttling, retries, backoff, cooperative stop) around a stand-in for the model,
// which sleeps CHAOS_STEP_MS per step instead of running the UNet and returns a gradient of
// the requested size. The broker sees the full protocol and a real PNG (with metadata); two
// CPU cores can then push 1,000 jobs through in minutes. Real inference: src/island-node/main.ts.
//
//   ISLAND_URL=http://127.0.0.1:3000 ISLAND_TOKEN=isl_… CHAOS_STEP_MS=20 tsx scripts/chaos-island.ts
import { readFileSync } from 'node:fs';
import type { GenerateOptions, GenerateRequest, GenerateResult } from '../src/lib/diffusion/pipeline';
import { parseManifest } from '../src/lib/diffusion/manifest';
import { HeadlessIsland } from '../src/island-node/headless';

const url = process.env.ISLAND_URL;
const token = process.env.ISLAND_TOKEN;
if (!url || !token) {
	console.error('usage: ISLAND_URL=… ISLAND_TOKEN=isl_… [CHAOS_STEP_MS=20] tsx scripts/chaos-island.ts');
	process.exit(2);
}
const stepMs = Number(process.env.CHAOS_STEP_MS ?? 20);
const manifest = parseManifest(JSON.parse(readFileSync(new URL('../static/models/demo/manifest.json', import.meta.url), 'utf8')));

function gradient(width: number, height: number, seed: number): Uint8ClampedArray {
	const rgba = new Uint8ClampedArray(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			rgba[i] = (x + seed) & 255;
			rgba[i + 1] = (y + (seed >>> 8)) & 255;
			rgba[i + 2] = (x ^ y) & 255;
			rgba[i + 3] = 255;
		}
	}
	return rgba;
}

/** What HeadlessIsland calls on a pipeline: generate(), with progress and abort. */
const standIn = {
	manifest,
	async generate(req: GenerateRequest, opts: GenerateOptions = {}): Promise<GenerateResult> {
		const t0 = Date.now();
		for (let step = 1; step <= req.steps; step++) {
			await new Promise<void>((resolve, reject) => {
				const onAbort = () => (clearTimeout(t), reject(opts.signal!.reason));
				const t = setTimeout(() => (opts.signal?.removeEventListener('abort', onAbort), resolve()), stepMs);
				opts.signal?.addEventListener('abort', onAbort, { once: true });
			});
			await opts.onProgress?.({ step, total: req.steps });
		}
		const totalMs = Date.now() - t0;
		return {
			width: req.width,
			height: req.height,
			rgba: gradient(req.width, req.height, req.seed),
			timings: { totalMs, sessionMs: 0, textMs: 0, unetMs: [], decodeMs: 0 }
		};
	}
};

const log = (m: string) => console.log(`[chaos-island ${process.pid}] ${m}`);
const island = new HeadlessIsland({
	url,
	token,
	// The stand-in has generate(), all the Island's engine uses of a pipeline.
	models: [{ id: manifest.id, load: async () => ({ manifest, pipeline: standIn }) }],
	maxPixels: 512 * 512,
	log
});
process.on('SIGTERM', () => island.stop());
process.on('SIGINT', () => island.stop());
log('ready');
await island.run();
log(`stopped after ${island.jobsDone} job(s)`);
process.exit(0);
