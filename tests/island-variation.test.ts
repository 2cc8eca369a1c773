// Variations on the real headless Island (the built-in one `npm start` runs: build/island/
// index.js on onnxruntime-node, the real demo model): it fetches the input through its lease
// and varies it; the same input, seed and strength give the very same PNG bytes, the strength
// decides how far the picture moves, and the price follows the steps it ran.
import { createHash } from 'node:crypto';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../harness/client';
import { requester as newRequester, TRUST_OFF } from '../harness/broker';
import { startServer, type TestServer } from '../harness/server';
import { until } from '../harness/until';
import { readPngText } from './helpers/png-text';
import { scoreColours } from './helpers/colour-score';

/** Mean absolute difference of the RGB channels, in levels of 255. */
function meanDistance(a: Uint8Array, b: Uint8Array): number {
	let sum = 0;
	for (let p = 0; p < a.length; p += 4) for (let c = 0; c < 3; c++) sum += Math.abs(a[p + c] - b[p + c]);
	return sum / ((a.length / 4) * 3);
}

describe('variations on the built-in headless Island (demo model)', () => {
	let server: TestServer;
	let client: ApiClient;

	beforeAll(async () => {
		server = await startServer('pglite', { builtinIsland: true, env: { RATE_LIMIT_JOBS_PER_MINUTE: '1000000', ...TRUST_OFF } });
		client = await newRequester(server.url, 'creator');
	}, 180_000);
	afterAll(async () => {
		await server?.dispose();
	});

	async function run(params: Record<string, unknown>) {
		const r = await client.json('POST', '/api/jobs', { json: { params: { model: 'demo', width: 256, height: 256, steps: 12, ...params } } });
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		const job = await until(`job ${r.body.job.id} done`, async () => {
			const j = (await client.json('GET', `/api/jobs/${r.body.job.id}`)).body.job;
			if (j.status === 'failed') throw new Error(`job failed: ${j.failureReason}`);
			return j.status === 'completed' ? j : null;
		}, 120_000);
		const png = new Uint8Array(await (await client.request('GET', job.imageUrl)).arrayBuffer());
		return { job, png, rgba: decode(png).data as Uint8Array, imageId: /\/api\/images\/([^/.]+)\.png/.exec(job.imageUrl)![1] };
	}
	const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

	// The shapes model's latent is a few numbers per cell (its background is three), so a new
	// prompt's colours come through early: at 0.5 the background is already half way to the new
	// one (tools/demo-model/MODEL_CARD.md); 0.2 keeps the picture. Its default guidance (1.5).
	it('varies a picture: byte-identical on a repeat, close at 0.2, following the new prompt at 0.9', async () => {
		const base = await run({ prompt: 'a red circle on a blue background', seed: 5 });
		expect(scoreColours(base.rgba, 256, 256).background).toBe('blue');
		const green = 'a red circle on a green background';
		const close = await run({ prompt: green, seed: 6, variation: { imageId: base.imageId, strength: 0.2 } });
		const repeat = await run({ prompt: green, seed: 6, variation: { imageId: base.imageId, strength: 0.2 } });
		expect(sha(repeat.png)).toBe(sha(close.png));
		expect(readPngText(close.png)).toMatchObject({ prompt: green, seed: '6', strength: '0.2', steps: '12' });
		// 12 steps at 0.2 ran 2: a sixth of the price of the full picture, rounded up.
		expect(close.job.cost).toBe(Math.ceil(base.job.cost / 6));
		const far = await run({ prompt: green, seed: 6, variation: { imageId: base.imageId, strength: 0.9 } });
		expect(meanDistance(close.rgba, base.rgba)).toBeLessThan(20);
		expect(meanDistance(far.rgba, base.rgba)).toBeGreaterThan(2 * meanDistance(close.rgba, base.rgba));
		expect(scoreColours(close.rgba, 256, 256).background).toBe('blue');
		expect(scoreColours(far.rgba, 256, 256).background).toBe('green');
	}, 300_000);
});
