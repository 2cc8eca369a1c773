// A variation on the browser Island (the /island tab, onnxruntime-web WASM in its worker): the
// tab fetches the input through its lease, decodes it in the worker and varies it, and the
// picture is the one onnxruntime-node draws from the same input, seed and strength.
import { decode } from 'fast-png';
import { fileURLToPath } from 'node:url';
import { loadNodeModel } from '../../src/island-node/node-runtime';
import { encodePng } from '../../src/lib/diffusion/png';
import { decodeInputPng } from '../../src/lib/diffusion/png-decode';
import { compareImages } from '../../src/lib/server/trust/compare';
import { expect, openIsland, requester, SMALL_JOB, submitJob, test, waitForJob } from './island-fixtures';

const demoManifest = fileURLToPath(new URL('../../static/models/demo/manifest.json', import.meta.url));

test('the /island tab on WASM varies a picture as onnxruntime-node does', async ({ page, server }) => {
	test.setTimeout(240_000);
	await openIsland(page, 'wasm');
	await page.getByRole('button', { name: 'Start earning' }).click();
	await expect(page.getByTestId('island-status')).toHaveText('Working', { timeout: 60_000 });

	const alice = await requester(server.url);
	const base = await waitForJob(alice, (await submitJob(alice)).id, ['completed']);
	const basePng = new Uint8Array(await (await alice.request('GET', base.imageUrl!)).arrayBuffer());
	const imageId = /\/api\/images\/([^/.]+)\.png/.exec(base.imageUrl!)![1];
	const params = { ...SMALL_JOB, prompt: 'a red circle on a green background', seed: 77, steps: 8, variation: { imageId, strength: 0.5 } };
	const varied = await waitForJob(alice, (await submitJob(alice, params)).id, ['completed']);
	await expect(page.getByTestId('jobs-done')).toHaveText('2');
	const png = new Uint8Array(await (await alice.request('GET', varied.imageUrl!)).arrayBuffer());

	const { pipeline } = await loadNodeModel(demoManifest);
	const { variation, ...request } = params;
	const ref = await pipeline.generate({ ...request, variation: { rgba: decodeInputPng(basePng, 256, 256), strength: variation.strength } });
	await pipeline.release();
	const got = decode(png).data as Uint8Array;
	let sum = 0;
	for (let p = 0; p < ref.rgba.length; p += 4) for (let c = 0; c < 3; c++) sum += Math.abs(ref.rgba[p + c] - got[p + c]);
	const mad = sum / ((ref.rgba.length / 4) * 3);
	console.log(`variation, browser WASM vs onnxruntime-node: mean absolute difference ${mad.toExponential(3)} of 255`);
	expect(mad).toBeLessThan(1);
	// The trust check's own comparison: a spot check on the node Island would confirm it.
	expect(compareImages(encodePng(ref.rgba, 256, 256), png).same).toBe(true);
});
