// /image with batches and a queue of one's own (issue 19, points 1, 2 and 6): a batch of four
// whose second image fails on three owners' Islands and is refunded alone; four single images
// in flight at once (one running, three queued) while the form stays usable, the limit said
// before sending and by the server's 429; the prompt-length warning. Test Islands
// (harness/test-island.ts) speak the real protocol, so each image moves when the test says.
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Page } from '@playwright/test';
import { expect, signUp, testWithOwnServer } from './fixtures';
import { previewDataUrl } from './image-islands';
import { ADMIN_CLAIM_TOKEN, ledgerAdmin, requester } from '../../harness/broker';
import { makePng, TestIsland } from '../../harness/test-island';

// A server of its own (its Islands must not take other specs' jobs), with the default limit
// of 4 images in flight per user.
const test = testWithOwnServer({ ADMIN_CLAIM_TOKEN });

const SHOTS = 'test-results/image';
mkdirSync(SHOTS, { recursive: true });

const balance = (page: Page) => page.getByTestId('image-balance');
const ready = (page: Page) => expect(page.locator('form[data-ready="true"]')).toBeVisible();
const prompt = (page: Page) => page.getByLabel('Prompt', { exact: true });

/** A verified requester with a starter pack (100 credits), on /image with the cheapest settings (10 credits an image). */
async function requesterOnImage(page: Page) {
	await signUp(page);
	const kyc = await page.request.post('/api/kyc/start', { data: { legalName: 'Batch Person', dateOfBirth: '1990-01-01', country: 'FR' } });
	expect((await kyc.json()).kyc.status).toBe('verified');
	const bought = await page.request.post('/api/credits/purchase', { data: { pack: 'starter' }, headers: { 'idempotency-key': randomUUID() } });
	expect(bought.status()).toBe(201);
	await page.goto('/image');
	await ready(page);
	await page.getByLabel('Size').selectOption('256x256');
	await page.getByLabel('Steps').fill('4');
}

/** An Island of a new, verified owner: a job never goes back to an owner whose Island gave up on it. */
const islandOfNewOwner = async (baseURL: string) => TestIsland.register(await requester(baseURL, null));

test('a batch of four: one grid, progress per image, the failed image refunded alone, one history entry', async ({ page, baseURL }) => {
	await requesterOnImage(page);
	await prompt(page).fill('a red circle on a blue background');
	await page.getByLabel('Images').selectOption('4');
	await expect(page.getByTestId('quote')).toHaveText('40');
	await expect(page.getByText('(4 × 10, standard)')).toBeVisible();
	await page.getByRole('button', { name: 'Generate 4 images' }).click();

	const tiles = page.getByTestId('batch-tile');
	await expect(tiles).toHaveCount(4);
	await expect(balance(page)).toHaveText('60');
	await expect(page.getByTestId('job-seed')).toHaveText(/^(\d+), (\d+), (\d+), (\d+)$/);
	const seeds = (await page.getByTestId('job-seed').textContent())!.split(', ').map(Number);
	expect(seeds.slice(1)).toEqual(seeds.slice(0, 3).map((s) => (s + 1) % 2 ** 32));
	const ids = await tiles.evaluateAll((els) => els.map((el) => el.getAttribute('data-job')!));
	await expect(page).toHaveURL(new RegExp(`[?&]job=${ids[0]}`));
	await expect(page.getByTestId('no-islands')).toBeVisible();

	// The first Island runs image 1 step by step: only its tile moves.
	const first = await islandOfNewOwner(baseURL);
	let claim = (await first.claim())!;
	expect(claim.job.id).toBe(ids[0]);
	expect((await first.progress(claim.job.id, claim.lease.token, 2, 4, previewDataUrl())).status).toBe(200);
	await expect(tiles.nth(0)).toHaveAttribute('data-status', 'running');
	await expect(tiles.nth(0).getByTestId('tile-step')).toHaveText('Step 2 of 4');
	await expect(tiles.nth(1)).toHaveAttribute('data-status', 'queued');
	await page.setViewportSize({ width: 1280, height: 900 });
	await page.screenshot({ path: `${SHOTS}/20-batch-running-1280.png`, fullPage: true });
	await first.complete(claim);
	await expect(tiles.nth(0)).toHaveAttribute('data-status', 'completed');

	// Image 2 fails on three owners' Islands in turn; images 3 and 4 are made.
	claim = (await first.claim())!;
	expect(claim.job.id).toBe(ids[1]);
	await first.fail(claim.job.id, claim.lease.token, 'out of memory');
	for (const id of [ids[2], ids[3]]) {
		claim = (await first.claim())!;
		expect(claim.job.id).toBe(id);
		await first.complete(claim, { picture: () => makePng(256, 256) });
	}
	for (let owner = 2; owner <= 3; owner++) {
		const island = await islandOfNewOwner(baseURL);
		claim = (await island.claim())!;
		expect(claim.job.id).toBe(ids[1]);
		await island.fail(claim.job.id, claim.lease.token, 'out of memory');
	}

	await expect(tiles.nth(1)).toHaveAttribute('data-status', 'failed');
	await expect(tiles.nth(1)).toContainText('The Islands could not make this image (out of memory). It was tried 3 times.');
	await expect(tiles.nth(1).getByTestId('tile-refund')).toHaveText('10 credits refunded');
	for (const i of [0, 2, 3]) await expect(tiles.nth(i)).toHaveAttribute('data-status', 'completed');
	await expect(tiles.locator('img')).toHaveCount(3);
	// Three images charged, the failed one's 10 credits back.
	await expect(balance(page)).toHaveText('70');
	await expect(page.getByTestId('job-params')).toContainText('40 credits (4 × 10), 10 refunded');
	await expect(page.getByTestId('announcer')).toHaveText('3 of 4 images ready, 1 failed and refunded.');
	// The actions are for the picked image.
	await tiles.nth(2).getByRole('button').click();
	await page.getByRole('button', { name: 'Reuse seed' }).click();
	await expect(page.getByLabel('Seed')).toHaveValue(String(seeds[2]));
	await page.screenshot({ path: `${SHOTS}/21-batch-done-1280.png`, fullPage: true });
	await page.setViewportSize({ width: 375, height: 812 });
	await page.screenshot({ path: `${SHOTS}/21-batch-done-375.png`, fullPage: true });
	await page.setViewportSize({ width: 1280, height: 900 });

	// The history keeps the batch together, and shows it again whole.
	await page.reload();
	await ready(page);
	await expect(tiles).toHaveCount(4);
	const entries = page.getByTestId('history').locator('button[data-job]');
	await expect(entries).toHaveCount(1);
	await expect(entries.first()).toHaveAttribute('data-count', '4');
	await expect(entries.first()).toHaveAttribute('data-status', 'completed failed completed completed');
	await page.getByRole('link', { name: 'Create', exact: true }).click();
	await expect(page.getByRole('heading', { name: 'Nothing here yet' })).toBeVisible();
	await entries.first().click();
	await expect(tiles).toHaveCount(4);
	await expect(page).toHaveURL(new RegExp(`[?&]job=${ids[0]}`));

	const admin = await ledgerAdmin(baseURL);
	expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
});

test('a queue of one’s own: three images queued while a fourth runs, each cancellable, the limit said before and by the server', async ({ page, baseURL }) => {
	await requesterOnImage(page);
	const generate = page.getByRole('button', { name: 'Generate' });
	const queue = page.getByTestId('queue-item');

	await test.step('a prompt longer than the model reads names the words it will ignore', async () => {
		await prompt(page).fill('a small yellow star in the top left corner, green background, and a large red heart in the bottom right corner on a purple backdrop');
		await expect(page.getByTestId('prompt-length')).toHaveText(/reads the first 24 tokens of a prompt; this one has 27\. It will ignore:\s*“?a purple backdrop”?/);
		await prompt(page).fill('a small yellow star in the top left corner, green background');
		await expect(page.getByTestId('prompt-length')).toHaveCount(0);
	});

	const island = await islandOfNewOwner(baseURL);
	let running: Awaited<ReturnType<TestIsland['claim']>> = null;
	await test.step('the first image runs; the form stays usable and three more join the queue', async () => {
		await prompt(page).fill('a red circle on a blue background');
		await generate.click();
		await expect(queue).toHaveCount(1);
		running = (await island.claim())!;
		expect((await island.progress(running.job.id, running.lease.token, 1, 4)).status).toBe(200);
		await expect(queue.first()).toHaveAttribute('data-status', 'running');
		await expect(queue.first().getByTestId('queue-state')).toHaveText('Running · step 1 of 4');
		for (const words of ['a green square on a white background', 'a pink heart on a black background', 'a cyan ring on an orange background']) {
			await expect(generate).toBeEnabled();
			await prompt(page).fill(words);
			await generate.click();
			await expect(page.getByTestId('job-params')).toContainText(words);
		}
		await expect(queue).toHaveCount(4);
		await expect(queue.locator('[data-testid="queue-state"]')).toHaveText(['Running · step 1 of 4', 'Queued · number 1 in line', 'Queued · number 2 in line', 'Queued · number 3 in line']);
		await expect(page.getByTestId('queue')).toContainText('Your queue (4 of 4 at once)');
		await expect(balance(page)).toHaveText('60');
		// The page says the limit before sending anything.
		await expect(generate).toBeDisabled();
		await expect(page.getByTestId('generate-reason')).toHaveText('You have 4 images queued or running, the most at once. Wait for one to finish, or cancel one.');
		await page.screenshot({ path: `${SHOTS}/22-queue-1280.png`, fullPage: true });
		await page.setViewportSize({ width: 375, height: 812 });
		await page.screenshot({ path: `${SHOTS}/22-queue-375.png`, fullPage: true });
		await page.setViewportSize({ width: 1280, height: 900 });
	});

	await test.step('cancel one from the queue: its hold comes back and a place is free', async () => {
		await queue.nth(2).getByRole('button', { name: /^Cancel/ }).click();
		await expect(queue).toHaveCount(3);
		await expect(balance(page)).toHaveText('70');
		await expect(generate).toBeEnabled();
	});

	await test.step('the server refuses what the page could not know: a place taken from another tab', async () => {
		expect((await page.request.post('/api/jobs', { data: { params: { prompt: 'a big orange diamond', model: 'demo', width: 256, height: 256, steps: 4 } } })).status()).toBe(201);
		await prompt(page).fill('a purple triangle on a yellow background');
		await generate.click();
		await expect(page.getByTestId('failure')).toHaveAttribute('data-code', 'too_many_jobs');
		await expect(page.getByTestId('failure')).toContainText('You have 4 images queued or running, the most allowed at once (4). Wait for one to finish, or cancel one. Nothing was charged.');
		await expect(balance(page)).toHaveText('60');
		// The reload the refusal asked for brings the other tab's job into this queue.
		await expect(queue).toHaveCount(4);
	});

	await test.step('the running image finishes: it leaves the queue, the next one starts', async () => {
		await island.complete(running!);
		await expect(queue).toHaveCount(3);
		const next = (await island.claim())!;
		await expect(queue.first()).toHaveAttribute('data-job', next.job.id);
		await expect(queue.first()).toHaveAttribute('data-status', 'running');
		await expect(generate).toBeEnabled();
		await island.complete(next);
		await expect(queue).toHaveCount(2);
	});
});
