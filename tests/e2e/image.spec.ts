// /image as a new requester meets it (issue 7, point 10): sign up, verify, buy credits,
// generate, watch, download, share, history, reload mid-job, cancel, failure and Try again,
// a low balance. Progress, reloads and failures are driven by a scripted Island so they
// happen exactly when the test says; the finished image comes from the real headless
// Island running the demo model. Screenshots of each key state go to test-results/image/.
// The steps before the first job are in image-onboarding.ts, those after sharing in
// image-history.ts; refusals only the server makes are in image-refusals.spec.ts.
import { readFileSync } from 'node:fs';
import { balance, expect, ready, shoot, SHOTS, test } from './image-page';
import { historyAndRefusalSteps } from './image-history';
import { onboardingSteps } from './image-onboarding';
import { previewDataUrl, registerIsland, ScriptedIsland, startHeadlessIsland } from './image-islands';

/** PNG header and tEXt chunks, read by hand so the test trusts nothing of the app's. */
function readPng(bytes: Buffer) {
	expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
	const text: Record<string, string> = {};
	let width = 0;
	let height = 0;
	let idat = 0;
	for (let at = 8; at < bytes.length; ) {
		const len = bytes.readUInt32BE(at);
		const type = bytes.toString('latin1', at + 4, at + 8);
		const data = bytes.subarray(at + 8, at + 8 + len);
		if (type === 'IHDR') [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
		if (type === 'tEXt') {
			const nul = data.indexOf(0);
			text[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
		}
		if (type === 'IDAT') idat += len;
		at += 12 + len;
	}
	return { width, height, text, idat };
}

test('a new requester goes from sign-up to a shared image, through every state of a job', async ({ page, context, browser, baseURL }) => {
	test.setTimeout(600_000);
	// The inference runtime must never load on this page: no ORT files, model files or the Island
	// worker. A model's tokenizer.json is the one exception: the prompt-length warning counts tokens.
	const runtime: string[] = [];
	page.on('request', (r) => /\/ort\/|onnxruntime|\.wasm(\?|$)|\/models\/(?![^/]+\/tokenizer\.json$)|\/workers\//.test(r.url()) && runtime.push(r.url()));
	const scripted = new ScriptedIsland(baseURL, await registerIsland(baseURL, 'Scripted Island'));

	await onboardingSteps(page);

	// The smallest size and fewest steps: the cheapest image (10 credits) and the quickest.
	async function smallestSettings() {
		await page.getByLabel('Aspect ratio').selectOption('1:1');
		await page.getByLabel('Size').selectOption('256x256');
		await page.getByLabel('Steps').fill('4');
		await expect(page.getByTestId('quote')).toHaveText('10');
	}

	let firstJob = '';
	await test.step('Ctrl+Enter generates; with no Island online the page says so and offers both choices', async () => {
		await smallestSettings();
		await page.getByLabel('Steps').fill('40');
		await page.getByLabel('Steps').blur();
		await expect(page.locator('#steps-error')).toContainText('Steps must be 4–12 (standard) or 13–30 (high quality)');
		await page.getByRole('button', { name: 'High quality' }).click();
		await expect(page.getByTestId('quote')).toHaveText(/^(2[5-9]|[34]\d|50)$/);
		await page.getByRole('button', { name: 'Standard' }).click();
		await page.getByLabel('Steps').fill('4');
		await expect(page.getByTestId('quote')).toHaveText('10');

		await page.getByLabel('Prompt', { exact: true }).press('Control+Enter');
		await expect(page).toHaveURL(/[?&]job=/);
		firstJob = new URL(page.url()).searchParams.get('job')!;
		await expect(page.getByTestId('no-islands')).toContainText('No Islands online right now');
		await expect(balance(page)).toHaveText('90');
		// The form stays usable while jobs run: the next one joins the queue.
		await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled();
		await expect(page.getByTestId('queue-item')).toHaveCount(1);
		await shoot(page, '04-no-islands');
		await page.getByRole('button', { name: 'Keep waiting' }).click();
		await expect(page.getByTestId('no-islands')).toHaveCount(0);
		await expect(page.getByTestId('state-queued')).toContainText('Queued');
		await expect(page.getByTestId('position')).toHaveText('1');
	});

	await test.step('running: backend, step k of n with the preview, announced', async () => {
		await scripted.heartbeat('wasm');
		const job = await scripted.claim();
		expect(job.id).toBe(firstJob);
		await expect(page.getByTestId('state-running')).toContainText('Running on an Island');
		await expect(page.getByTestId('backend')).toHaveText('wasm');
		expect(await scripted.progress(job, 2, 4, previewDataUrl())).toBe(200);
		await expect(page.getByTestId('step')).toHaveText('Step 2 of 4');
		await expect(page.getByTestId('preview')).toBeVisible();
		await expect(page.getByTestId('announcer')).toHaveText('Step 2 of 4.');
		await shoot(page, '05-running');

		await test.step('a reload and a second tab reconnect to the same job', async () => {
			await page.reload();
			await ready(page);
			await expect(page.getByTestId('step')).toHaveText('Step 2 of 4');
			const second = await context.newPage();
			await second.goto(`/image?job=${firstJob}`);
			await ready(second);
			await expect(second.getByTestId('step')).toHaveText('Step 2 of 4');
			expect(await scripted.progress(job, 3, 4, previewDataUrl([40, 40, 200]))).toBe(200);
			await expect(page.getByTestId('step')).toHaveText('Step 3 of 4');
			await expect(second.getByTestId('step')).toHaveText('Step 3 of 4');
			await second.close();
		});

		await test.step('cancel while running: the hold comes back', async () => {
			await page.getByTestId('state-running').getByRole('button', { name: 'Cancel' }).click();
			await expect(page.getByTestId('cancelled')).toContainText('10 credits refunded');
			await expect(balance(page)).toHaveText('100');
			await expect(page.getByTestId('announcer')).toHaveText('Cancelled. 10 credits refunded.');
			// The Island learns at its next call that the job is gone.
			expect(await scripted.progress(job, 4, 4)).toBe(410);
			await shoot(page, '06-cancelled');
		});
	});

	let failedSeed = '';
	await test.step('a job the Islands fail three times: plain words, refund, Try again', async () => {
		await page.getByLabel('Prompt', { exact: true }).fill('a small yellow star in the top left corner, green background');
		await page.getByRole('button', { name: 'Generate' }).click();
		await expect(page.getByTestId('state-queued')).toBeVisible();
		await expect(balance(page)).toHaveText('90');
		// Three owners' Islands give up in turn (a job never goes back to an owner who gave up on it).
		for (let attempt = 1; attempt <= 3; attempt++) {
			const quitter = attempt === 1 ? scripted : new ScriptedIsland(baseURL, await registerIsland(baseURL, `Scripted Island ${attempt}`));
			if (quitter !== scripted) await quitter.heartbeat();
			const job = await quitter.claim();
			expect(await quitter.fail(job, 'out of memory')).toBe(attempt < 3 ? 'queued' : 'failed');
		}
		await expect(page.getByTestId('failure')).toContainText('The Islands could not make this image (out of memory');
		await expect(page.getByTestId('refund')).toHaveText('10 credits refunded to your balance.');
		await expect(balance(page)).toHaveText('100');
		failedSeed = (await page.getByTestId('job-seed').textContent())!;
		await shoot(page, '07-failed');
	});

	const island = await startHeadlessIsland(baseURL, await registerIsland(baseURL, 'Headless Island'));
	try {
		await test.step('Try again resubmits the same params; the headless Island makes the image', async () => {
			await page.getByRole('button', { name: 'Try again' }).click();
			await expect(page.getByTestId('failure')).toHaveCount(0);
			await expect(page.getByTestId('job-seed')).toHaveText(failedSeed);
			await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 240_000 });
			await expect(page.getByTestId('announcer')).toHaveText('Your image is ready.');
			// Visible once laid out (it has width and height attributes), decoded a moment later.
			await expect.poll(() => page.getByTestId('result-image').evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([256, 256]);
			await expect(balance(page)).toHaveText('90');
			await shoot(page, '08-completed');
			await page.emulateMedia({ colorScheme: 'dark' });
			await page.setViewportSize({ width: 375, height: 812 });
			await page.screenshot({ path: `${SHOTS}/08-completed-dark-375.png`, fullPage: true });
			await page.setViewportSize({ width: 1280, height: 900 });
			await page.emulateMedia({ colorScheme: 'light' });
		});
	} finally {
		await island.stop();
	}

	await test.step('download: a valid PNG of the chosen size with its metadata, named from the prompt', async () => {
		const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
		expect(download.suggestedFilename()).toBe(`a-small-yellow-star-in-the-top-left-corner-green-background-${failedSeed}.png`);
		const png = readPng(readFileSync((await download.path())!));
		expect([png.width, png.height]).toEqual([256, 256]);
		expect(png.idat).toBeGreaterThan(0);
		expect(Object.values(png.text).join('\n')).toContain('a small yellow star in the top left corner');
	});

	await test.step('copy link: a toast, and the signed URL opens in a fresh context', async () => {
		await context.grantPermissions(['clipboard-read', 'clipboard-write']);
		await page.getByRole('button', { name: 'Copy link' }).click();
		await expect(page.getByTestId('toast')).toContainText('Share link copied');
		await page.setViewportSize({ width: 1280, height: 900 });
		await page.screenshot({ path: `${SHOTS}/09-share-toast-1280.png` });
		const url = await page.evaluate(() => navigator.clipboard.readText());
		expect(url).toMatch(/\/api\/images\/[^/]+\.png\?exp=\d+&sig=/);
		const fresh = await browser.newContext();
		try {
			const res = await fresh.request.get(url);
			expect(res.status()).toBe(200);
			expect(res.headers()['content-type']).toBe('image/png');
			expect(readPng(await res.body()).width).toBe(256);
			const unsigned = await fresh.request.get(url.split('?')[0]);
			expect(unsigned.status()).toBe(401);
		} finally {
			await fresh.close();
		}
	});

	await historyAndRefusalSteps(page, firstJob, failedSeed);

	expect(runtime).toEqual([]);
});
