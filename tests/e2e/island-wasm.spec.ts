// (a) The WASM path end to end: a job submitted through the API is done by the /island tab,
// the requester gets the PNG, and the picture matches the headless Island's (onnxruntime-node)
// for the same seed and parameters.
import { decode } from 'fast-png';
import { fileURLToPath } from 'node:url';
import { loadNodeModel } from '../../src/island-node/node-runtime';
import { encodePng } from '../../src/lib/diffusion/png';
import { compareImages } from '../../src/lib/server/trust/compare';
import { balance, expect, ledgerCheck, OBJECTS_JOB, openIsland, requester, SMALL_JOB, submitJob, test, waitForJob } from './island-fixtures';

const demoManifest = fileURLToPath(new URL('../../static/models/demo/manifest.json', import.meta.url));

/** Mean absolute difference over the RGB channels, in 0–255 levels. */
function meanAbsDiff(a: Uint8Array | Uint8ClampedArray, b: Uint8Array | Uint8ClampedArray, channels: number): number {
	let sum = 0, n = 0;
	for (let p = 0; p < a.length / 4; p++)
		for (let c = 0; c < 3; c++) {
			sum += Math.abs(a[p * 4 + c] - b[p * channels + c]);
			n++;
		}
	return sum / n;
}

test('a job submitted through the API is done by the /island tab on WASM and matches onnxruntime-node', async ({ page, server }, testInfo) => {
	// Everything, ORT's runtime files included, comes from the app itself: never a CDN.
	const foreign: string[] = [];
	page.on('request', (r) => {
		if (!r.url().startsWith(server.url) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) foreign.push(r.url());
	});
	await openIsland(page, 'wasm');
	expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
	// This browser has no WebGPU adapter (no --enable-unsafe-webgpu): the fallback says so.
	await expect(page.getByTestId('webgpu-summary')).toContainText(/no WebGPU|no adapter/);
	await expect(page.getByLabel('WebGPU (your GPU)')).toBeDisabled();
	await expect(page.getByTestId('backend-reason')).toHaveText('WASM was chosen for you: no usable WebGPU adapter.');
	await page.getByRole('button', { name: 'Start earning' }).click();
	await expect(page.getByTestId('island-status')).toHaveText('Working', { timeout: 60_000 });
	await expect(page.getByTestId('backend-name')).toHaveText('WASM');
	await expect(page.getByTestId('backend-running')).toContainText('2 threads');

	expect(foreign).toEqual([]);
	const wasm = await fetch(`${server.url}/ort/ort-wasm-simd-threaded.jsep.wasm`, { method: 'HEAD' });
	expect(wasm.headers.get('content-type')).toBe('application/wasm');
	expect(wasm.headers.get('cross-origin-embedder-policy')).toBe('require-corp');

	const alice = await requester(server.url);
	const before = await balance(alice);
	const job = await submitJob(alice);

	await expect(page.getByTestId('jobs-done')).toHaveText('1', { timeout: 90_000 });
	const earned = Number(await page.getByTestId('credits-earned').textContent());
	expect(earned).toBe(Math.floor(job.cost * 0.8));

	// The tab offers both built-in models and runs a job of either on that model's sessions.
	const mine = (await (await page.request.get('/api/islands')).json()).islands as { models: string[] }[];
	expect(mine.map((i) => i.models)).toEqual([['demo', 'objects']]);
	const objectsJob = await submitJob(alice, OBJECTS_JOB);
	await expect(page.getByTestId('jobs-done')).toHaveText('2', { timeout: 90_000 });
	const objectsDone = await waitForJob(alice, objectsJob.id, ['completed']);
	expect(decode(new Uint8Array(await (await alice.request('GET', objectsDone.imageUrl!)).arrayBuffer())).width).toBe(OBJECTS_JOB.width);

	// Pause claims nothing more, resume claims again, stop ends the loop with the model kept.
	await page.getByRole('button', { name: 'Pause' }).click();
	await expect(page.getByTestId('island-status')).toHaveText('Paused');
	await page.getByRole('button', { name: 'Resume' }).click();
	await expect(page.getByTestId('island-status')).toHaveText('Working');
	await page.getByRole('button', { name: 'Stop' }).click();
	await expect(page.getByTestId('island-status')).toHaveText('Ready');

	const done = await waitForJob(alice, job.id, ['completed']);
	expect(done.imageUrl).toBeTruthy();
	const res = await alice.request('GET', done.imageUrl!);
	expect(res.status).toBe(200);
	expect(res.headers.get('content-type')).toContain('image/png');
	const pngBytes = new Uint8Array(await res.arrayBuffer());
	const png = decode(pngBytes);
	expect([png.width, png.height]).toEqual([SMALL_JOB.width, SMALL_JOB.height]);
	expect(await balance(alice)).toEqual({ available: before.available - job.cost - objectsJob.cost, held: 0 });
	expect((await ledgerCheck(server.url)).problems).toEqual([]);

	// Same picture everywhere: the headless Island's runtime on the same request.
	const { pipeline } = await loadNodeModel(demoManifest);
	const ref = await pipeline.generate({ ...SMALL_JOB });
	await pipeline.release();
	const mad = meanAbsDiff(ref.rgba, png.data as Uint8Array, png.channels);
	testInfo.annotations.push({ type: 'mean abs difference (0–255)', description: mad.toFixed(4) });
	console.log(`browser WASM vs onnxruntime-node: mean absolute difference ${mad.toExponential(3)} of 255`);
	// Float reassociation across backends moves a few pixels by a level; a different image
	// would differ by tens of levels.
	expect(mad).toBeLessThan(1);
	// The broker's trust check: recomputed on another backend, an honest result is the same
	// picture tile by tile (docs/trust.md, "Comparing results").
	const verdict = compareImages(encodePng(ref.rgba, ref.width, ref.height), pngBytes);
	testInfo.annotations.push({ type: 'worst tile distance (0–255)', description: verdict.maxTileDistance.toExponential(2) });
	expect(verdict.reason).toBeUndefined();
	expect(verdict.same).toBe(true);
	expect(verdict.maxTileDistance).toBeLessThan(verdict.threshold / 10);
});
