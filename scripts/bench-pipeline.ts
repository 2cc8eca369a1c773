// `npm run bench:pipeline`: ms per step and per image on onnxruntime-node (CPU), and the
// pipeline's overhead over the bare session.run calls it makes. Uses the demo model (or the
// built-in model BENCH_MODEL names, e.g. objects) when it has been exported, else the tiny
// random models (numbers then only show overhead). Writes bench-results/pipeline.json and prints a markdown table.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import * as ort from 'onnxruntime-node';
import { loadManifest, loadModelAssets } from '../src/lib/diffusion/manifest';
import { DiffusionPipeline } from '../src/lib/diffusion/pipeline';
import { encodePng } from '../src/lib/diffusion/png';
import { createRng } from '../src/lib/diffusion/rng';
import { nodeFetchBytes, nodeRuntime } from '../src/island-node/node-runtime';
import { tinyDemoManifest, tinyUrl } from '../tests/helpers/tiny-models';

const root = new URL('..', import.meta.url);
const demo = new URL(`static/models/${process.env.BENCH_MODEL ?? 'demo'}/manifest.json`, root);
const useDemo = existsSync(demo) && process.env.BENCH_TINY !== '1';
const manifestUrl = useDemo ? demo : new URL('files.json', tinyUrl('demo'));
const manifest = useDemo ? await loadManifest(demo, nodeFetchBytes) : tinyDemoManifest();
const assets = await loadModelAssets(manifest, manifestUrl, nodeFetchBytes);
const threads = Number(process.env.BENCH_THREADS ?? 0) || undefined;
const runtime = nodeRuntime({ threads });
const pipe = await DiffusionPipeline.create(manifest, assets, runtime);
// Separate sessions with the same options for the bare-run baseline.
const te = await runtime.createSession(assets.textEncoder, 'textEncoder');
const unet = await runtime.createSession(assets.unet, 'unet');
const vae = await runtime.createSession(assets.vaeDecoder, 'vaeDecoder');

const guidance = manifest.guidance.default;
const cases = [
	{ width: 256, height: 256, steps: 4, runs: Number(process.env.BENCH_RUNS_SMALL ?? 5) },
	// the model's default steps: what a requester gets (the built-in models' bar: ≤ 0.5 s, ≤ 1 s)
	{ width: 256, height: 256, steps: manifest.steps.default, runs: Number(process.env.BENCH_RUNS_SMALL ?? 5) },
	{ width: 512, height: 512, steps: 20, runs: Number(process.env.BENCH_RUNS_LARGE ?? 3) }
];

/** The same session.run calls the pipeline makes (2 text encodes, steps × UNet, 1 decode), nothing else. */
async function bare(width: number, height: number, steps: number): Promise<number> {
	const L = manifest.tokenizer.maxLength, C = manifest.latent.channels;
	const h = height / manifest.latent.downscale, w = width / manifest.latent.downscale;
	const batch = guidance > 1 ? 2 : 1;
	const rng = createRng(1);
	const ids = new ort.Tensor(new Int32Array(L).fill(2), [1, L]);
	const run = async (s: InferenceSession, feeds: Record<string, Tensor>) => (await s.run(feeds));
	const t0 = performance.now();
	const emb = (await run(te, { input_ids: ids })).last_hidden_state;
	if (batch === 2) await run(te, { input_ids: ids });
	const D = emb.dims[2];
	const ehs = new ort.Tensor(rng.normals(batch * L * D), [batch, L, D]);
	const sample = new ort.Tensor(rng.normals(batch * C * h * w), [batch, C, h, w]);
	for (let i = 0; i < steps; i++) {
		const timestep = new ort.Tensor(new BigInt64Array(batch).fill(BigInt(999 - i)), [batch]);
		await run(unet, { sample, timestep, encoder_hidden_states: ehs });
	}
	await run(vae, { latent_sample: new ort.Tensor(rng.normals(C * h * w), [1, C, h, w]) });
	return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const c of cases) {
	const req = (k: number) => ({ prompt: `a red circle on a blue background ${k % 2 ? 'small' : ''}`.trim(), width: c.width, height: c.height, steps: c.steps, guidance, seed: k });
	await pipe.generate(req(0)); // warm-up: first runs allocate arenas
	await bare(c.width, c.height, c.steps);
	const total: number[] = [], session: number[] = [], step: number[] = [], raw: number[] = [], png: number[] = [], pngBytes: number[] = [];
	for (let k = 1; k <= c.runs; k++) {
		// Interleaved so background load hits both sides alike.
		raw.push(await bare(c.width, c.height, c.steps));
		const out = await pipe.generate(req(k));
		total.push(out.timings.totalMs);
		session.push(out.timings.sessionMs);
		step.push(out.timings.unetMs.reduce((a, b) => a + b, 0) / out.timings.unetMs.length);
		const p0 = performance.now();
		pngBytes.push(encodePng(out.rgba, out.width, out.height, { ...req(k), model: manifest.id }).length);
		png.push(performance.now() - p0);
	}
	rows.push({
		size: `${c.width}×${c.height}`, steps: c.steps, guidance, runs: c.runs,
		msPerStep: median(step), msPerImage: median(total), pngMs: median(png), pngKB: median(pngBytes) / 1024,
		bareMs: median(raw),
		// Pipeline vs bare runs in separate loops (includes run-to-run noise) …
		overheadVsBare: median(total) / median(raw),
		// … and vs the session.run time measured inside the same generate() call.
		overheadVsOwnRuns: median(total.map((t, i) => t / session[i]))
	});
}

const result = {
	model: manifest.id, modelVersion: manifest.version, backend: 'onnxruntime-node (CPU)',
	threads: threads ?? 'default', cpu: os.cpus()[0]?.model, cores: os.cpus().length,
	node: process.version, date: new Date().toISOString(), rows
};
mkdirSync(new URL('bench-results/', root), { recursive: true });
writeFileSync(new URL('bench-results/pipeline.json', root), JSON.stringify(result, null, 2) + '\n');

const f = (x: number, d = 1) => x.toFixed(d);
console.log(`\nPipeline benchmark — model ${result.model} v${result.modelVersion}, ${result.backend}, ${result.cores} × ${result.cpu}, Node ${result.node}\n`);
console.log('| size | steps | guidance | ms/step | ms/image | PNG encode ms | PNG KB | bare session.run ms | overhead vs bare | overhead vs own runs |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.size} | ${r.steps} | ${r.guidance} | ${f(r.msPerStep)} | ${f(r.msPerImage, 0)} | ${f(r.pngMs)} | ${f(r.pngKB, 0)} | ${f(r.bareMs, 0)} | ${f(r.overheadVsBare, 3)}× | ${f(r.overheadVsOwnRuns, 3)}× |`);
console.log('\nJSON: bench-results/pipeline.json');
