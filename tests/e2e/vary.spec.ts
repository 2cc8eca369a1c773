// "Vary" on /image, with the real built-in headless Island drawing (the demo model on
// onnxruntime-node): a picture, then a variation of it from the history at strength 0.2 that
// stays close to it and one at 0.9 that follows a new prompt, both measured from the pixels.
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Page } from '@playwright/test';
import { decode } from 'fast-png';
import { expect, test as base } from './csp-guard';
import { signUp } from './fixtures';
import { startServer, type TestServer } from '../../harness/server';
import { TRUST_OFF } from '../../harness/broker';
import { scoreColours } from '../helpers/colour-score';

// A server of its own, with the built-in Island `npm start` runs.
const test = base.extend<{ server: TestServer; baseURL: string }>({
	server: async ({}, use) => {
		const server = await startServer('pglite', { builtinIsland: true, env: TRUST_OFF });
		await use(server);
		await server.dispose();
	},
	baseURL: async ({ server }, use) => use(server.url)
});

const SHOTS = 'test-results/vary';
mkdirSync(SHOTS, { recursive: true });

const ready = (page: Page) => expect(page.locator('form[data-ready="true"]')).toBeVisible();

/** The finished picture on the page, as RGBA pixels. */
async function shownPixels(page: Page): Promise<Uint8Array> {
	const img = page.getByTestId('result-image');
	await expect(img).toBeVisible({ timeout: 90_000 });
	const res = await page.request.get((await img.getAttribute('src'))!);
	expect(res.status()).toBe(200);
	const png = decode(await res.body());
	expect([png.width, png.height, png.channels]).toEqual([256, 256, 4]);
	return png.data as Uint8Array;
}

/** Mean absolute difference of the RGB channels, in levels of 255. */
function meanDistance(a: Uint8Array, b: Uint8Array): number {
	let sum = 0;
	for (let p = 0; p < a.length; p += 4) for (let c = 0; c < 3; c++) sum += Math.abs(a[p + c] - b[p + c]);
	return sum / ((a.length / 4) * 3);
}

const jobIdInUrl = (page: Page) => new URL(page.url()).searchParams.get('job');

test('vary a history picture: close to it at 0.2, following the new prompt at 0.9', async ({ page }) => {
	test.setTimeout(240_000);
	await signUp(page);
	const kyc = await page.request.post('/api/kyc/start', { data: { legalName: 'Test Person', dateOfBirth: '1990-01-01', country: 'FR' } });
	expect((await kyc.json()).kyc.status).toBe('verified');
	expect((await page.request.post('/api/credits/purchase', { data: { pack: 'creator' }, headers: { 'idempotency-key': randomUUID() } })).status()).toBe(201);
	await page.goto('/image');
	await ready(page);

	let original: Uint8Array = new Uint8Array();
	let originalJob = '';
	await test.step('a picture, then another: the first is now a history item', async () => {
		await page.getByLabel('Prompt', { exact: true }).fill('a red circle on a blue background');
		await page.getByLabel('Steps').fill('12');
		await page.getByRole('button', { name: 'Generate' }).click();
		original = await shownPixels(page);
		originalJob = jobIdInUrl(page)!;
		expect(scoreColours(original, 256, 256).background).toBe('blue');
		await page.getByLabel('Prompt', { exact: true }).fill('a small yellow star in the top left corner, green background');
		await page.getByRole('button', { name: 'Generate' }).click();
		await expect(page.getByTestId('result-image')).toHaveAttribute('alt', /yellow star/, { timeout: 90_000 });
		await expect(page.getByTestId('vary')).toBeVisible();
	});

	const item = page.getByTestId('history').locator('li').filter({ has: page.locator(`[data-job="${originalJob}"]`) });

	// The shapes model's latent is a few numbers per cell, so a new prompt's colours come through
	// early (at 0.5 a new background is half way in): 0.2 is the strength that keeps a picture.
	await test.step('Vary at 0.2 with a new prompt: the quote follows the steps it runs, the picture stays close', async () => {
		await item.getByTestId('history-vary').click();
		const panel = page.getByTestId('vary-panel');
		await expect(panel).toBeVisible();
		await expect(panel).toBeFocused();
		await expect(page.getByTestId('vary-strength-value')).toHaveText('0.5');
		await expect(panel).toContainText('Runs 6 of its 12 steps');
		const full = (await (await page.request.post('/api/jobs/quote', { data: { params: { prompt: 'x', model: 'demo', width: 256, height: 256, steps: 12 } } })).json()).cost as number;
		await expect(page.getByTestId('vary-cost')).toHaveText(`${Math.ceil(full / 2)} credits`);
		await page.getByTestId('vary-strength').fill('0.2');
		await expect(page.getByTestId('vary-strength-value')).toHaveText('0.2');
		await expect(panel).toContainText('Runs 2 of its 12 steps');
		await expect(page.getByTestId('vary-cost')).toHaveText(`${Math.ceil((full * 2) / 12)} credits`);
		await panel.getByLabel('New prompt').fill('a red circle on a green background');
		await page.screenshot({ path: `${SHOTS}/01-panel.png`, fullPage: true });
		await panel.getByRole('button', { name: 'Vary' }).click();
		await expect(panel).toBeHidden();
		const close = await shownPixels(page);
		await expect(page.getByTestId('job-variation')).toHaveText('strength 0.2 of an earlier picture');
		const d = meanDistance(close, original);
		expect(d).toBeLessThan(20);
		expect(scoreColours(close, 256, 256).background).toBe('blue');
		await page.screenshot({ path: `${SHOTS}/02-strength-0.2.png`, fullPage: true });

		await test.step('Vary at 0.9: the new prompt wins (a green background)', async () => {
			await item.getByTestId('history-vary').click();
			await page.getByTestId('vary-strength').fill('0.9');
			await expect(page.getByTestId('vary-strength-value')).toHaveText('0.9');
			await expect(panel).toContainText('Runs 10 of its 12 steps');
			await panel.getByLabel('New prompt').fill('a red circle on a green background');
			await panel.getByRole('button', { name: 'Vary' }).click();
			await expect(page.getByTestId('job-variation')).toHaveText('strength 0.9 of an earlier picture', { timeout: 90_000 });
			const far = await shownPixels(page);
			expect(scoreColours(far, 256, 256).background).toBe('green');
			expect(meanDistance(far, original)).toBeGreaterThan(2 * d);
			await page.screenshot({ path: `${SHOTS}/03-strength-0.9.png`, fullPage: true });
		});
	});
});
