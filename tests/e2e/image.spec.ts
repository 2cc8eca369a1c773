// /image as a new requester meets it (issue 7, point 10): sign up, verify, buy credits,
// generate, watch, download, share, history, reload mid-job, cancel, failure and Try again,
// a low balance. Progress, reloads and failures are driven by a scripted Island so they
// happen exactly when the test says; the finished image comes from the real headless
// Island running the demo model. Screenshots of each key state go to test-results/image/.
import { mkdirSync, readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { expect, test as base } from './csp-guard';
import { startServer, type TestServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, ledgerAdmin, revokeKyc, TRUST_OFF } from '../../harness/broker';
import { previewDataUrl, registerIsland, ScriptedIsland, startHeadlessIsland } from './image-islands';

/** The built-in models' names and words as their manifests say them (the objects model's are a stand-in's until its export lands). */
const manifest = (id: string) => JSON.parse(readFileSync(new URL(`../../static/models/${id}/manifest.json`, import.meta.url), 'utf8')) as { name: string; description: string };
const [DEMO, OBJECTS] = [manifest('demo'), manifest('objects')];

// A server of its own: this file registers Islands and leaves jobs queued, which must not
// reach other specs' Islands on the shared worker server (nor theirs reach ours). It spends a
// balance down with ten queued images, past the default limit of 4 in flight per user
// (image-batches.spec.ts walks that limit).
const test = base.extend<{ server: TestServer; baseURL: string }>({
	server: async ({}, use) => {
		const server = await startServer('pglite', { env: { BUILTIN_ISLANDS: '0', MAX_ACTIVE_JOBS_PER_USER: '20', ...TRUST_OFF } });
		await use(server);
		await server.dispose();
	},
	baseURL: async ({ server }, use) => use(server.url)
});

const SHOTS = 'test-results/image';
mkdirSync(SHOTS, { recursive: true });

/** The state at 1280 px and at 375 px (the phone width the page must work at). */
async function shoot(page: Page, name: string) {
	await page.setViewportSize({ width: 1280, height: 900 });
	await page.screenshot({ path: `${SHOTS}/${name}-1280.png`, fullPage: true });
	await page.setViewportSize({ width: 375, height: 812 });
	await page.screenshot({ path: `${SHOTS}/${name}-375.png`, fullPage: true });
	await page.setViewportSize({ width: 1280, height: 900 });
}

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

const balance = (page: Page) => page.getByTestId('image-balance');

/**
 * Signs up on /signup?next=… as a person would. On a busy machine a click can land before the
 * app has hydrated, and the bare HTML form then reloads the page instead of signing up (and
 * drops `next`): such a try is simply made again, on a fresh /signup?next=….
 */
async function signUpFromForm(page: Page, next: string) {
	const email = `image-${randomUUID()}@example.com`;
	await expect(async () => {
		if (new URL(page.url()).pathname === next) return;
		if (!page.url().includes(`next=${encodeURIComponent(next)}`)) await page.goto(`/signup?next=${encodeURIComponent(next)}`);
		await page.getByLabel('Email').fill(email);
		await page.getByLabel('Password').fill('correct horse battery');
		await page.getByRole('button', { name: 'Create account' }).click();
		await page.waitForURL((url) => url.pathname === next, { timeout: 10_000 });
	}).toPass({ timeout: 120_000 });
}

/** The page is hydrated and its validator loaded: before that a click would submit the bare HTML form. */
const ready = (page: Page) => expect(page.locator('form[data-ready="true"]')).toBeVisible();

test('a new requester goes from sign-up to a shared image, through every state of a job', async ({ page, context, browser, baseURL }) => {
	test.setTimeout(600_000);
	// The inference runtime must never load on this page: no ORT files, model files or the Island
	// worker. A model's tokenizer.json is the one exception: the prompt-length warning counts tokens.
	const runtime: string[] = [];
	page.on('request', (r) => /\/ort\/|onnxruntime|\.wasm(\?|$)|\/models\/(?![^/]+\/tokenizer\.json$)|\/workers\//.test(r.url()) && runtime.push(r.url()));
	const scripted = new ScriptedIsland(baseURL, await registerIsland(baseURL, 'Scripted Island'));

	await test.step('anonymous: /image sends to log in, and back after signing up', async () => {
		await page.goto('/image');
		await expect(page).toHaveURL(/\/login\?next=%2Fimage$/);
		await page.getByRole('link', { name: 'Create an account' }).click();
		await expect(page).toHaveURL(/\/signup\?next=%2Fimage$/);
		await signUpFromForm(page, '/image');
		await ready(page);
	});

	await test.step('unverified: the page explains and sends to /verify', async () => {
		await expect(page.getByTestId('kyc-note')).toContainText('Verify your identity to generate images');
		await expect(page.getByRole('button', { name: 'Generate' })).toBeDisabled();
		await expect(page.getByTestId('generate-reason')).toContainText('needs a verified identity');
		await shoot(page, '01-unverified');
		await page.getByTestId('kyc-note').getByRole('link', { name: 'Verify your identity' }).click();
		await page.waitForURL('**/verify');
		await page.getByLabel('Legal name').fill('Ada Example');
		await page.getByLabel('Date of birth').fill('1990-04-01');
		await page.getByLabel('Country').selectOption('DE');
		await page.getByRole('button', { name: 'Verify (sandbox)' }).click();
		await expect(page.getByTestId('kyc-status')).toHaveAttribute('data-status', 'verified');
		await page.getByRole('link', { name: 'Create an image' }).click();
		await page.waitForURL('**/image');
		await ready(page);
	});

	await test.step('no credits: Generate says why, the nudge links to /credits', async () => {
		await expect(page.getByTestId('kyc-note')).toHaveCount(0);
		await expect(balance(page)).toHaveText('0');
		await expect(page.getByTestId('low-balance')).toBeVisible();
		await expect(page.getByRole('button', { name: 'Generate' })).toBeDisabled();
		await expect(page.getByTestId('generate-reason')).toContainText(/costs \d+ credits and you have 0/);
		await shoot(page, '02-no-credits');
		await page.getByTestId('low-balance').getByRole('link', { name: 'Buy credits' }).click();
		await page.waitForURL('**/credits');
		await page.getByTestId('buy-starter').click();
		await expect(page.getByTestId('balance-available')).toHaveText('100');
		await page.getByRole('link', { name: 'Create', exact: true }).click();
		await page.waitForURL('**/image');
		await ready(page);
		await expect(balance(page)).toHaveText('100');
		await expect(page.getByTestId('low-balance')).toHaveCount(0);
	});

	await test.step('empty state: validation beside the field, keyboard order, example prompts', async () => {
		await expect(page.getByRole('heading', { name: 'Nothing here yet' })).toBeVisible();
		await shoot(page, '03-empty');
		await page.emulateMedia({ colorScheme: 'dark' });
		await page.screenshot({ path: `${SHOTS}/03-empty-dark-1280.png`, fullPage: true });
		await page.emulateMedia({ colorScheme: 'light' });

		await page.getByRole('button', { name: 'Generate' }).click();
		await expect(page.locator('#prompt-error')).toHaveText('Write a prompt.');
		await expect(page.getByLabel('Prompt', { exact: true })).toBeFocused();
		await expect(page.getByLabel('Prompt', { exact: true })).toHaveAttribute('aria-invalid', 'true');

		// Keyboard only: Tab walks the form in reading order.
		const order: string[] = [];
		for (let i = 0; i < 9; i++) {
			await page.keyboard.press('Tab');
			order.push(await page.evaluate(() => {
				const el = document.activeElement as HTMLElement;
				return el.id || el.textContent?.trim().slice(0, 20) || el.tagName;
			}));
		}
		expect(order).toEqual(['Negative prompt (opt', 'aspect', 'size', 'Standard', 'High quality', 'steps', 'seed', 'INPUT', 'Advanced']);

		// The model comes first; each model offers its own examples, from its manifest.
		const model = page.getByLabel('Model', { exact: true });
		await expect(model).toHaveValue('demo');
		await expect(model.locator('option')).toHaveText([DEMO.name, OBJECTS.name]);
		await model.selectOption('objects');
		await expect(page.getByTestId('model-description')).toHaveText(OBJECTS.description);
		await expect(page.getByTestId('examples')).toContainText(`${OBJECTS.name} draws well`);
		await expect(page.getByRole('button', { name: 'a red circle on a blue background' })).toHaveCount(0);
		await page.getByRole('button', { name: 'a big rocket in the top left corner on a yellow background' }).click();
		await expect(page.getByLabel('Prompt', { exact: true })).toHaveValue('a big rocket in the top left corner on a yellow background');
		await model.selectOption('demo');
		await expect(page.getByRole('button', { name: 'a big rocket in the top left corner on a yellow background' })).toHaveCount(0);

		await page.getByRole('button', { name: 'a red circle on a blue background' }).click();
		await expect(page.getByLabel('Prompt', { exact: true })).toHaveValue('a red circle on a blue background');
		await expect(page.getByLabel('Prompt', { exact: true })).toBeFocused();
		await expect(page.locator('#prompt-error')).toHaveCount(0);
	});

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

	await test.step('history: newest first, survives a reload, re-views a job with its params', async () => {
		await page.reload();
		await ready(page);
		const items = page.getByTestId('history').locator('button[data-job]');
		await expect(items).toHaveCount(3);
		await expect(items.nth(0)).toHaveAttribute('data-status', 'completed');
		await expect(items.nth(1)).toHaveAttribute('data-status', 'failed');
		await expect(items.nth(2)).toHaveAttribute('data-status', 'cancelled');
		await expect(items.nth(0).locator('img')).toBeVisible();
		await items.nth(2).click();
		await expect(page.getByTestId('cancelled')).toBeVisible();
		await expect(page.getByTestId('job-params')).toContainText('a red circle on a blue background');
		await expect(page).toHaveURL(new RegExp(`job=${firstJob}`));
		await items.nth(0).click();
		await expect(page.getByTestId('result-image')).toBeVisible();
		await page.getByRole('button', { name: 'Reuse settings' }).click();
		await expect(page.getByLabel('Prompt', { exact: true })).toHaveValue('a small yellow star in the top left corner, green background');
		await expect(page.getByLabel('Seed')).toHaveValue(failedSeed);
		await expect(page.getByLabel('Lock')).toBeChecked();
		await shoot(page, '10-history');
		// The header's Create link starts afresh (the finished job stays in the history).
		await page.getByRole('link', { name: 'Create', exact: true }).click();
		await expect(page.getByRole('heading', { name: 'Nothing here yet' })).toBeVisible();
		await expect(page).not.toHaveURL(/job=/);
	});

	await test.step('a rejected prompt: what happened, nothing charged, Try again', async () => {
		await page.getByLabel('Prompt', { exact: true }).fill('a child porn picture');
		await page.getByRole('button', { name: 'Generate' }).click();
		await expect(page.getByTestId('failure')).toHaveAttribute('data-code', 'prompt_rejected');
		await expect(page.getByTestId('failure')).toContainText("doesn't generate");
		await expect(page.getByTestId('failure')).toContainText('Nothing was charged');
		await expect(balance(page)).toHaveText('90');
		await shoot(page, '11-rejected');
		await page.getByRole('button', { name: 'Try again' }).click();
		await expect(page.getByTestId('failure')).toHaveAttribute('data-code', 'prompt_rejected');
	});

	await test.step('cancel while queued: the hold comes back', async () => {
		await page.getByLabel('Prompt', { exact: true }).fill('a large white heart in the center on a purple background');
		await page.getByRole('button', { name: 'Generate' }).click();
		await expect(page.getByTestId('state-queued')).toBeVisible();
		await expect(balance(page)).toHaveText('80');
		await page.getByTestId('state-queued').getByRole('button', { name: /^Cancel/ }).click();
		await expect(page.getByTestId('cancelled')).toContainText('10 credits refunded');
		await expect(balance(page)).toHaveText('90');
	});

	await test.step('insufficient credits when another tab spent them: said plainly, balance refreshed', async () => {
		// Queued jobs hold their cost; with no Island running they stay queued.
		const params = { prompt: 'a green ring in the middle on a white background', model: 'demo', width: 256, height: 256, steps: 4 };
		for (let i = 0; i < 8; i++) expect((await page.request.post('/api/jobs', { data: { params } })).status()).toBe(201);
		await page.goto('/image');
		await ready(page);
		await page.getByLabel('Steps').fill('4');
		await page.getByLabel('Prompt', { exact: true }).fill('a big orange diamond on the left on a cyan background');
		await expect(balance(page)).toHaveText('10');
		// The other tab: this page still shows 10 available.
		expect((await page.request.post('/api/jobs', { data: { params } })).status()).toBe(201);
		await page.getByRole('button', { name: 'Generate' }).click();
		await expect(page.getByTestId('failure')).toHaveAttribute('data-code', 'insufficient_credits');
		await expect(page.getByTestId('failure')).toContainText('This image costs 10 credits');
		await expect(page.getByTestId('failure')).toContainText('Nothing was charged');
		await expect(page.getByTestId('failure').getByRole('link', { name: 'Buy credits' })).toBeVisible();
		await expect(balance(page)).toHaveText('0');
	});

	await test.step('a balance under 10: the nudge, and Generate says why', async () => {
		await page.goto('/image');
		await ready(page);
		await page.getByLabel('Prompt', { exact: true }).fill('a pink triangle at the bottom right against a black backdrop');
		await page.getByLabel('Steps').fill('4');
		await expect(balance(page)).toHaveText('0');
		await expect(page.getByTestId('low-balance')).toContainText('Your balance is low');
		await expect(page.getByRole('button', { name: 'Generate' })).toBeDisabled();
		await expect(page.getByTestId('generate-reason')).toContainText('This image costs 10 credits and you have 0.');
		await shoot(page, '12-low-balance');
	});

	expect(runtime).toEqual([]);
});

test('refusals the page can only meet from the server: identity revoked mid-session, rate limited', async ({ browser }) => {
	// Its own server: a 4-requests-a-minute limit on /api/jobs*, and an admin who revokes the
	// requester's verification from /admin.
	const server = await startServer('pglite', { env: { ADMIN_CLAIM_TOKEN, RATE_LIMIT_JOBS_PER_MINUTE: '4', ...TRUST_OFF } });
	const admin = await ledgerAdmin(server.url);
	const verify = async (page: Page) => {
		const r = await page.request.post('/api/kyc/start', { data: { legalName: 'Image Person', dateOfBirth: '1990-01-01', country: 'FR' } });
		expect((await r.json()).kyc.status).toBe('verified');
	};
	const context = await browser.newContext({ baseURL: server.url });
	try {
		const page = await context.newPage();
		await signUpFromForm(page, '/credits');
		await verify(page);
		const me = (await (await page.request.get('/api/me')).json()).user.id as string;
		const bought = await page.request.post('/api/credits/purchase', { data: { pack: 'starter' }, headers: { 'idempotency-key': randomUUID() } });
		expect(bought.status()).toBe(201);
		await page.goto('/image');
		await ready(page);
		await page.getByLabel('Prompt', { exact: true }).fill('a red circle on a blue background');
		await page.getByLabel('Steps').fill('4');

		// Request 1: refused, the identity was revoked after the page loaded.
		await revokeKyc(admin, me);
		await page.getByRole('button', { name: 'Generate' }).click();
		await expect(page.getByTestId('failure')).toHaveAttribute('data-code', 'kyc_required');
		await expect(page.getByTestId('failure').getByRole('link', { name: 'Verify your identity' })).toBeVisible();
		// The page reloaded what it shows: the explanation and the disabled button.
		await expect(page.getByTestId('kyc-note')).toBeVisible();
		await expect(page.getByRole('button', { name: 'Generate' })).toBeDisabled();
		await shoot(page, '13-kyc-revoked');

		// Requests 2–4: a job, its event stream, its cancel. Request 5 is over the limit.
		await verify(page);
		await page.reload();
		await ready(page);
		await page.getByLabel('Prompt', { exact: true }).fill('a red circle on a blue background');
		await page.getByLabel('Steps').fill('4');
		await page.getByRole('button', { name: 'Generate' }).click();
		await expect(page.getByTestId('state-queued')).toBeVisible();
		await page.getByTestId('state-queued').getByRole('button', { name: /^Cancel/ }).click();
		await expect(page.getByTestId('cancelled')).toBeVisible();
		await page.getByRole('button', { name: 'Generate' }).click();
		await expect(page.getByTestId('failure')).toHaveAttribute('data-code', 'rate_limited');
		await expect(page.getByTestId('failure')).toContainText(/too fast\. Wait \d+ seconds, then try again\. Nothing was charged\./);
		await expect(page.getByRole('button', { name: 'Try again' })).toBeVisible();
		await shoot(page, '14-rate-limited');
	} finally {
		await context.close();
		await server.dispose();
	}
});
