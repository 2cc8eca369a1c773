// `npm run bench:browser`: ms per denoising step of the demo model in Chromium (the /island
// page's worker, onnxruntime-web WASM with threads) against onnxruntime-node on the same
// machine, as a ratio (goal ≤ 2×), plus the mean absolute difference of the two images for the
// same seed. Prints a markdown table and writes bench-results/browser.json.
import { chromium } from '@playwright/test';
import { decode } from 'fast-png';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadNodeModel } from '../src/island-node/node-runtime';
import { ensureBuild } from '../server/ensure-build.js';
import { startServer } from '../harness/server';

const root = new URL('..', import.meta.url);
const runs = Number(process.env.BENCH_RUNS ?? 3);
// BENCH_SIZES=256,512 picks square sizes; BENCH_THREADS overrides the page's WASM threads.
const cases = (process.env.BENCH_SIZES ?? '256,512').split(',').map((s) => ({ width: Number(s), height: Number(s), steps: 8 }));
const prompt = 'a red circle on a blue background';
const guidance = 5;
const seed = 42;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

ensureBuild({ quiet: true });
const server = await startServer('pglite');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-background-networking', '--no-first-run'] });
try {
	const context = await browser.newContext({ baseURL: server.url });
	const page = await context.newPage();
	// Two shared cores: page loads can take far longer than Playwright's default 30 s.
	page.setDefaultTimeout(180_000);
	await page.goto('/signup');
	await page.getByLabel('Email').fill(`bench-${Date.now()}@example.com`);
	await page.getByLabel('Password').fill('correct horse battery');
	await page.getByRole('button', { name: 'Create account' }).click();
	await page.waitForURL((url) => !url.pathname.startsWith('/signup'));
	await page.goto('/island');
	const info = await page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency, ua: navigator.userAgent }));
	await page.getByLabel('WASM (your CPU)').check();
	if (process.env.BENCH_THREADS) await page.getByLabel('Threads').fill(process.env.BENCH_THREADS);
	const threads = Number(await page.getByLabel('Threads').inputValue());

	/** One test image in the page; its per-step times and its PNG. */
	async function browserRun(c: (typeof cases)[number]) {
		await page.getByLabel('Steps').fill(String(c.steps));
		await page.getByLabel('Size').selectOption(String(c.width));
		await page.getByLabel('Guidance').fill(String(guidance));
		await page.getByLabel('Seed').fill(String(seed));
		const before = await page.getByTestId('test-result').getAttribute('data-timings').catch(() => null);
		await page.getByRole('button', { name: 'Make a test image' }).click();
		const result = page.getByTestId('test-result');
		await page.waitForFunction((prev) => {
			const el = document.querySelector('[data-testid="test-result"]');
			return el && el.getAttribute('data-timings') !== prev;
		}, before, { timeout: 300_000 });
		const timings = JSON.parse((await result.getAttribute('data-timings'))!) as { unetMs: number[]; totalMs: number };
		const src = (await page.getByTestId('test-image').getAttribute('src'))!;
		const png = await page.evaluate(async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer())), src);
		return { step: mean(timings.unetMs), total: timings.totalMs, png: new Uint8Array(png) };
	}

	const manifest = fileURLToPath(new URL('static/models/demo/manifest.json', root));
	const { pipeline } = await loadNodeModel(manifest);
	const rows = [];
	for (const c of cases) {
		const req = { prompt, width: c.width, height: c.height, steps: c.steps, guidance, seed };
		// Warm-up on both sides: first runs allocate arenas and compile.
		await browserRun(c);
		await pipeline.generate(req);
		const b: number[] = [], n: number[] = [], bTotal: number[] = [], nTotal: number[] = [];
		let mad = NaN;
		for (let k = 0; k < runs; k++) {
			// Interleaved, so the machine's background load hits both sides alike.
			const br = await browserRun(c);
			const nr = await pipeline.generate(req);
			b.push(br.step), bTotal.push(br.total);
			n.push(mean(nr.timings.unetMs)), nTotal.push(nr.timings.totalMs);
			const img = decode(br.png);
			let sum = 0;
			for (let p = 0; p < c.width * c.height; p++) for (let ch = 0; ch < 3; ch++) sum += Math.abs(img.data[p * img.channels + ch] - nr.rgba[p * 4 + ch]);
			mad = sum / (c.width * c.height * 3);
		}
		rows.push({ size: `${c.width}×${c.height}`, steps: c.steps, guidance, runs, browserMsPerStep: median(b), nodeMsPerStep: median(n), ratio: median(b) / median(n), browserMsPerImage: median(bTotal), nodeMsPerImage: median(nTotal), meanAbsDiff: mad });
	}
	await pipeline.release();

	const result = {
		model: 'demo', browser: `Chromium ${browser.version()}`, browserBackend: 'onnxruntime-web WASM (SIMD, threads)', crossOriginIsolated: info.isolated, browserThreads: threads,
		node: `onnxruntime-node (CPU, default threads) on Node ${process.version}`, cpu: os.cpus()[0]?.model, cores: os.cpus().length, date: new Date().toISOString(),
		goal: 'browser ms/step ≤ 2 × node ms/step', rows
	};
	mkdirSync(new URL('bench-results/', root), { recursive: true });
	writeFileSync(new URL('bench-results/browser.json', root), JSON.stringify(result, null, 2) + '\n');
	const f = (x: number, d = 1) => x.toFixed(d);
	console.log(`\nBrowser benchmark — ${result.browser}, WASM ${threads} thread(s), cross-origin isolated: ${info.isolated}; ${result.cores} × ${result.cpu}\n`);
	console.log('| size | steps | browser ms/step | node ms/step | ratio | browser ms/image | node ms/image | mean abs diff (0–255) |');
	console.log('|---|---|---|---|---|---|---|---|');
	for (const r of rows) console.log(`| ${r.size} | ${r.steps} | ${f(r.browserMsPerStep)} | ${f(r.nodeMsPerStep)} | ${f(r.ratio, 2)}× | ${f(r.browserMsPerImage, 0)} | ${f(r.nodeMsPerImage, 0)} | ${r.meanAbsDiff.toExponential(2)} |`);
	console.log('\nJSON: bench-results/browser.json');
} finally {
	await browser.close();
	await server.dispose();
}
