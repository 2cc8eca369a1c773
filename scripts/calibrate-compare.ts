// `npx tsx scripts/calibrate-compare.ts`: measures what compareImages (src/lib/server/trust/
// compare.ts) sees on honest pairs, the same request on two backends, and on forged ones, so
// TILE_DISTANCE_THRESHOLD can sit with a wide margin on both sides. Backends: onnxruntime-node
// (the reference, as the headless Island runs it) against the /island page's worker in
// Chromium on WASM and on WebGPU (SwiftShader here), and against onnxruntime-web's WASM in
// Node for the tiny demo- and SD-Turbo-shaped models (the page only offers the demo model).
// Prints markdown tables and writes bench-results/compare.json.
//   CALIBRATE_256=24 CALIBRATE_384=2 CALIBRATE_512=6 CALIBRATE_WEBGPU=8 (0 skips WebGPU, the slow part: ~15 min)
import { chromium, type Page } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as ortWeb from 'onnxruntime-web';
import { ensureBuild } from '../server/ensure-build.js';
import { startServer } from '../harness/server';
import { loadNodeModel, nodeFetchBytes, toUrl } from '../src/island-node/node-runtime';
import { loadModelAssets } from '../src/lib/diffusion/manifest';
import { DiffusionPipeline, runtimeFromOrt } from '../src/lib/diffusion/pipeline';
import { encodePng } from '../src/lib/diffusion/png';
import { loadSdTurboManifest } from '../src/lib/diffusion/sdturbo';
import type { ModelManifest } from '../src/lib/schemas/manifest';
import { compareImages, TILE_DISTANCE_THRESHOLD } from '../src/lib/server/trust/compare';
import { tinyDemoManifest, tinyUrl } from '../tests/helpers/tiny-models';
import { forgeries, pairFigures, PROMPTS, summarise, timeCompare, type PairFigures, type Pixels, type Rendered } from './calibrate-compare-lib';

const root = new URL('..', import.meta.url);
const n256 = Number(process.env.CALIBRATE_256 ?? 24);
const n384 = Number(process.env.CALIBRATE_384 ?? 2);
const n512 = Number(process.env.CALIBRATE_512 ?? 6);
const nWebgpu = Number(process.env.CALIBRATE_WEBGPU ?? 8);
const STEPS = [4, 8, 12], GUIDANCE = [5, 1, 8];

type Req = Rendered['req'];
const cases = (n: number, size: number, offset: number): Req[] =>
	Array.from({ length: n }, (_, i) => ({ prompt: PROMPTS[(i + offset) % PROMPTS.length], width: size, height: size, steps: STEPS[i % 3], guidance: GUIDANCE[Math.floor(i / 3) % 3], seed: 1000 + 7919 * (i + offset) }));
const wasmCases = [...cases(n256, 256, 0), ...cases(n384, 384, 3), ...cases(n512, 512, 5)];
// SwiftShader is 100–250× slower than WASM: cheap requests (1–4 steps), a few with guidance.
const webgpuCases: Req[] = (
	[[256, 1, 1], [256, 2, 1], [256, 1, 5], [256, 4, 1], [256, 2, 5], [384, 1, 1], [512, 1, 1], [512, 2, 1]] as const
).map(([size, steps, guidance], i) => ({ prompt: PROMPTS[(i * 3) % PROMPTS.length], width: size, height: size, steps, guidance, seed: 11 + i })).slice(0, nWebgpu);

const demoPng = (req: Req, rgba: Pixels) => encodePng(rgba, req.width, req.height, { ...req, model: 'demo' });

async function signUp(page: Page) {
	await page.goto('/signup');
	await page.getByLabel('Email').fill(`calibrate-${Date.now()}@example.com`);
	await page.getByLabel('Password').fill('correct horse battery');
	await page.getByRole('button', { name: 'Create account' }).click();
	await page.waitForURL((url) => !url.pathname.startsWith('/signup'));
}

/** One "Make a test image" run on the /island page; its PNG and the backend that ran it. */
async function pageRun(page: Page, req: Req): Promise<{ png: Uint8Array; backend: string }> {
	await page.getByLabel('Prompt').fill(req.prompt);
	await page.getByLabel('Seed').fill(String(req.seed));
	await page.getByLabel('Steps').fill(String(req.steps));
	await page.getByLabel('Size').selectOption(String(req.width));
	await page.getByLabel('Guidance').fill(String(req.guidance));
	const before = await page.evaluate(() => document.querySelector('[data-testid="test-image"]')?.getAttribute('src') ?? null);
	await page.getByRole('button', { name: 'Make a test image' }).click();
	await page.waitForFunction((prev) => {
		if (document.querySelector('[role="alert"]')) throw new Error(document.querySelector('[role="alert"]')!.textContent ?? 'error');
		const img = document.querySelector('[data-testid="test-image"]');
		return img && img.getAttribute('src') !== prev;
	}, before, { timeout: 900_000, polling: 250 });
	const backend = (await page.getByTestId('test-result').getAttribute('data-backend'))!;
	const src = (await page.getByTestId('test-image').getAttribute('src'))!;
	const bytes = await page.evaluate(async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer())), src);
	return { png: new Uint8Array(bytes), backend };
}

ensureBuild({ quiet: true });
const server = await startServer('pglite');
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-background-networking', '--no-first-run', ...(nWebgpu ? ['--enable-unsafe-webgpu'] : [])]
});
const honest: Record<string, PairFigures[]> = {};
const forged: Record<string, number[]> = {};
let largest: { a: Uint8Array; b: Uint8Array; width: number } | undefined; // for the timing
const log = (s: string) => console.log(s);
let chromiumVersion = '';
try {
	chromiumVersion = browser.version();
	const context = await browser.newContext({ baseURL: server.url });
	const page = await context.newPage();
	page.setDefaultTimeout(300_000); // two shared cores: model loads can take minutes
	await signUp(page);
	await page.goto('/island');
	await page.getByLabel('WASM (your CPU)').check();

	const demo = (await loadNodeModel(fileURLToPath(new URL('static/models/demo/manifest.json', root)))).pipeline;
	const refs: Rendered[] = [];
	for (const req of wasmCases) {
		const b = await pageRun(page, req);
		if (b.backend !== 'wasm') throw new Error(`expected the WASM backend, got ${b.backend}`);
		const rgba = (await demo.generate(req)).rgba;
		const ref = { req, rgba, png: demoPng(req, rgba) };
		refs.push(ref);
		const f = pairFigures(ref.png, b.png);
		(honest[`demo ${req.width}×${req.height}: node vs Chromium WASM`] ??= []).push(f);
		if (!largest || req.width > largest.width) largest = { a: ref.png, b: b.png, width: req.width };
		log(`wasm ${req.width} steps ${req.steps} g ${req.guidance} seed ${req.seed}: max tile ${f.maxTile.toExponential(2)}, mean ${f.meanAbs.toExponential(2)}, max ${f.maxAbs}`);
	}

	if (webgpuCases.length) {
		const gpu = await context.newPage();
		gpu.setDefaultTimeout(300_000);
		await gpu.goto('/island');
		await gpu.getByLabel('WebGPU (your GPU)').check();
		for (const req of webgpuCases) {
			const t0 = Date.now();
			const b = await pageRun(gpu, req);
			if (b.backend !== 'webgpu') throw new Error(`expected the WebGPU backend, got ${b.backend}`);
			const rgba = (await demo.generate(req)).rgba;
			const f = pairFigures(demoPng(req, rgba), b.png);
			(honest['demo 256–512, 1–4 steps: node vs Chromium WebGPU (SwiftShader)'] ??= []).push(f);
			log(`webgpu ${req.width} steps ${req.steps} g ${req.guidance}: max tile ${f.maxTile.toExponential(2)}, mean ${f.meanAbs.toExponential(2)}, max ${f.maxAbs} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
		}
	}

	// Forgeries of the node pictures: pasted, shifted, blank, and the lazy ones rendered here.
	for (const [i, ref] of refs.entries()) {
		const other = (r: Rendered) => r.req.width === ref.req.width && r.req.prompt !== ref.req.prompt;
		const donor = refs.find((r, j) => j > i && other(r)) ?? refs.find(other);
		const { req } = ref;
		const lazy: Record<string, Pixels> = { 'another seed, same request': (await demo.generate({ ...req, seed: req.seed + 1 })).rgba };
		if (req.steps > 4) lazy['fewer steps (4 instead of 8 or 12)'] = (await demo.generate({ ...req, steps: 4 })).rgba;
		if (req.guidance > 1) lazy['no guidance (half the work)'] = (await demo.generate({ ...req, guidance: 1 })).rgba;
		if (req.width === 512) lazy['half-size render, upscaled 2×'] = (await demo.generate({ ...req, width: 256, height: 256 })).rgba;
		for (const [attack, pngs] of Object.entries(forgeries(ref, donor, i + 1, lazy)))
			for (const f of pngs) (forged[attack] ??= []).push(compareImages(ref.png, f, { threshold: 255 }).maxTileDistance);
	}
	await demo.release();
} finally {
	await browser.close();
	await server.dispose();
}

// The tiny models on onnxruntime-web's WASM in Node: the same kernels the page runs.
ortWeb.env.wasm.numThreads = 1;
async function tinyPair(label: string, base: URL, manifest: ModelManifest, reqs: Req[]) {
	const node = (await loadNodeModel(base, manifest)).pipeline;
	const web = await DiffusionPipeline.create(manifest, await loadModelAssets(manifest, toUrl(base), nodeFetchBytes), runtimeFromOrt(ortWeb as never, { executionProviders: ['wasm'] }));
	for (const req of reqs) {
		const [a, b] = [await node.generate(req), await web.generate(req)];
		(honest[label] ??= []).push(pairFigures(demoPng(req, a.rgba), demoPng(req, b.rgba)));
	}
	await node.release();
	await web.release();
}
const tinySizes = [[256, 256], [320, 256], [512, 384], [512, 512]];
await tinyPair('tiny demo-shaped: node vs onnxruntime-web WASM', new URL('files.json', tinyUrl('demo')), tinyDemoManifest(),
	Array.from({ length: 8 }, (_, i) => ({ prompt: PROMPTS[i], width: tinySizes[i % 4][0], height: tinySizes[i % 4][1], steps: STEPS[i % 3], guidance: GUIDANCE[i % 3], seed: 50 + i })));
const turboBase = new URL(tinyUrl('sdturbo').href);
await tinyPair('tiny SD-Turbo-shaped 512×512: node vs onnxruntime-web WASM', turboBase, (await loadSdTurboManifest(turboBase.href, nodeFetchBytes))!,
	Array.from({ length: 6 }, (_, i) => ({ prompt: PROMPTS[i], width: 512, height: 512, steps: 1, guidance: 0, seed: 90 + i })));

// What the broker's event loop pays per check, on the largest honest pair (two decodes and the tiles).
const timing = largest ? { size: `${largest.width}×${largest.width}`, ...timeCompare(largest.a, largest.b) } : null;
const honestRows = Object.entries(honest).map(([pair, rows]) => ({ pair, ...summarise(rows) }));
const forgedRows = Object.entries(forged).map(([attack, d]) => ({ attack, pairs: d.length, min: Math.min(...d), median: [...d].sort((a, b) => a - b)[Math.floor(d.length / 2)] }));
const honestMax = Math.max(...honestRows.map((r) => r.maxTile));
const forgedMin = Math.min(...forgedRows.map((r) => r.min));
const result = {
	date: new Date().toISOString(), threshold: TILE_DISTANCE_THRESHOLD, honestMax, forgedMin,
	browser: `Chromium ${chromiumVersion}`, node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadAverage: os.loadavg()[0],
	honest: honestRows, forged: forgedRows, timing
};
mkdirSync(new URL('bench-results/', root), { recursive: true });
writeFileSync(new URL('bench-results/compare.json', root), JSON.stringify(result, null, 2) + '\n');

const e = (x: number) => (x === 0 ? '0' : x.toExponential(1));
log(`\nHonest pairs (${result.browser}, Node ${result.node}, ${result.cores} × ${result.cpu}, load ${result.loadAverage.toFixed(1)})\n`);
log('| backends | pairs | worst tile, max | worst tile, median | mean abs diff, max | largest single difference | values that differ, max |');
log('|---|---|---|---|---|---|---|');
for (const r of honestRows) log(`| ${r.pair} | ${r.pairs} | ${e(r.maxTile)} | ${e(r.medianMaxTile)} | ${e(r.maxMeanAbs)} | ${r.maxAbs} | ${(r.maxDiffering * 100).toFixed(3)} % |`);
log('\nForged pairs (against the onnxruntime-node picture)\n');
log('| attack | pairs | worst tile, min | worst tile, median |');
log('|---|---|---|---|');
for (const r of forgedRows) log(`| ${r.attack} | ${r.pairs} | ${r.min.toFixed(2)} | ${r.median.toFixed(2)} |`);
log(`\nthreshold ${TILE_DISTANCE_THRESHOLD}: honest max ${e(honestMax)} (×${(TILE_DISTANCE_THRESHOLD / honestMax).toFixed(0)} below), forged min ${forgedMin.toFixed(2)} (×${(forgedMin / TILE_DISTANCE_THRESHOLD).toFixed(1)} above)`);
if (timing) log(`compareImages at ${timing.size}: median ${timing.compareMs.toFixed(1)} ms, of which decoding both PNGs ${timing.decodeMs.toFixed(1)} ms`);
log('JSON: bench-results/compare.json');
