// A fast headless Island for chaos runs: the real HeadlessIsland (claim loop, heartbeat,
// progress throttling, retries, backoff, cooperative stop) around a stand-in for the model,
// which sleeps CHAOS_STEP_MS per step instead of running the UNet and returns a gradient of
// the requested size. The broker sees the full protocol and a real PNG (with metadata); two
// CPU cores can then push 1,000 jobs through in minutes. Real inference: src/island-node/main.ts.
// CHAOS_LIE=0.2 makes it a liar: honest for its first CHAOS_HONEST_FIRST (3) jobs, enough to
// pass probation, then a wrong picture (harness/chaos-picture.ts `lie`) on that share of jobs.
//
//   ISLAND_URL=http://127.0.0.1:3000 ISLAND_TOKEN=isl_… CHAOS_STEP_MS=20 [CHAOS_LIE=0.2] tsx scripts/chaos-island.ts
import { readFileSync } from 'node:fs';
import type { GenerateOptions, GenerateRequest, GenerateResult } from '../src/lib/diffusion/pipeline';
import { parseManifest } from '../src/lib/diffusion/manifest';
import { HeadlessIsland } from '../src/island-node/headless';
import { gradient, lie } from '../harness/chaos-picture';

const url = process.env.ISLAND_URL;
const token = process.env.ISLAND_TOKEN;
if (!url || !token) {
	console.error('usage: ISLAND_URL=… ISLAND_TOKEN=isl_… [CHAOS_STEP_MS=20] tsx scripts/chaos-island.ts');
	process.exit(2);
}
const stepMs = Number(process.env.CHAOS_STEP_MS ?? 20);
const manifest = parseManifest(JSON.parse(readFileSync(new URL('../static/models/demo/manifest.json', import.meta.url), 'utf8')));

const log = (m: string) => console.log(`[chaos-island ${process.pid}] ${m}`);
const lieRate = Number(process.env.CHAOS_LIE ?? 0);
const honestFirst = Number(process.env.CHAOS_HONEST_FIRST ?? 3);
let drawn = 0;
let lies = 0;

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
		// A job aborted above (kill, hand-back) draws nothing, so it doesn't count here.
		const lying = drawn++ >= honestFirst && Math.random() < lieRate;
		// The chaos run counts these lines (harness/chaos-island-process.ts).
		if (lying) log(`lie ${++lies}: ${req.width}x${req.height} seed ${req.seed}`);
		return {
			width: req.width,
			height: req.height,
			rgba: lying ? lie(req, lies) : gradient(req.width, req.height, req.seed, req.prompt),
			timings: { totalMs, sessionMs: 0, textMs: 0, unetMs: [], decodeMs: 0 }
		};
	}
};

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
