// "Your data" as a person meets it: delete a picture from /image (a confirm step, then it is
// gone from the page, the history and its share link), then the account from /account
// (password and a typed phrase), after which the login refuses it.
import { randomUUID } from 'node:crypto';
import { expect, test as base } from './csp-guard';
import { signUp } from './fixtures';
import { startServer, type TestServer } from '../../harness/server';
import { requester, TRUST_OFF } from '../../harness/broker';
import { TestIsland } from '../../harness/test-island';

// A server of its own: its Island takes the oldest queued job, which must be this test's.
const test = base.extend<{ server: TestServer; baseURL: string }>({
	server: async ({}, use) => {
		const server = await startServer('pglite', { env: { BUILTIN_ISLANDS: '0', ...TRUST_OFF } });
		await use(server);
		await server.dispose();
	},
	baseURL: async ({ server }, use) => use(server.url)
});

test('a requester deletes a picture, then their account', async ({ page, baseURL }) => {
	const island = await TestIsland.register(await requester(baseURL, null));
	const { email, password } = await signUp(page);
	// Verifying and buying have their own specs; here they go through the page's session.
	expect((await page.request.post('/api/kyc/start', { data: { legalName: 'Ada Example', dateOfBirth: '1990-04-01', country: 'DE' } })).status()).toBe(200);
	expect((await page.request.post('/api/credits/purchase', { data: { pack: 'starter' }, headers: { 'idempotency-key': randomUUID() } })).status()).toBe(201);

	let shareUrl = '';
	let jobId = '';
	await test.step('generate a picture and share it', async () => {
		await page.goto('/image');
		await expect(page.locator('form[data-ready="true"]')).toBeVisible();
		await page.getByLabel('Prompt', { exact: true }).fill('a private red circle on a blue background');
		await page.getByRole('button', { name: 'Generate' }).click();
		await expect(page).toHaveURL(/[?&]job=/);
		jobId = new URL(page.url()).searchParams.get('job')!;
		await island.runOne();
		await expect(page.getByTestId('result-image')).toBeVisible();
		await expect(page.locator(`[data-job="${jobId}"]`)).toBeVisible();
		const share = await page.request.post(`/api/jobs/${jobId}/share`);
		shareUrl = (await share.json()).url;
		expect((await fetch(shareUrl)).status).toBe(200);
	});

	await test.step('delete the picture: asked first, then gone from the page, the history and the link', async () => {
		await page.getByTestId('delete-image').click();
		await expect(page.getByTestId('delete-image-confirm')).toContainText('Delete this picture?');
		await page.getByRole('button', { name: 'Keep it' }).click();
		await expect(page.getByTestId('delete-image-confirm')).toHaveCount(0);
		await expect(page.getByTestId('result-image')).toBeVisible();

		await page.getByTestId('delete-image').click();
		await page.getByRole('button', { name: 'Delete the picture' }).click();
		await expect(page.getByRole('status').filter({ hasText: 'Picture deleted' })).toBeVisible();
		await expect(page.getByTestId('result-image')).toHaveCount(0);
		await expect(page.locator(`[data-job="${jobId}"]`)).toHaveCount(0);
		await page.reload();
		await expect(page.locator(`[data-job="${jobId}"]`)).toHaveCount(0);
		// Its own address still opens the job, which says what happened.
		await page.goto(`/image?job=${jobId}`);
		await expect(page.getByTestId('image-deleted')).toContainText('You deleted this picture');
		await expect(page.getByTestId('job-params')).not.toContainText('private red circle');
		expect((await fetch(shareUrl)).status).toBe(404);
	});

	let key = '';
	await test.step('a key made on /account with the scopes chosen works for the requester routes', async () => {
		await page.goto('/account');
		await page.getByLabel('New key name').fill('my script');
		await page.getByLabel(/credits:buy/).check();
		await page.getByRole('button', { name: 'Create key' }).click();
		key = (await page.getByTestId('new-api-key').textContent())!;
		await expect(page.getByRole('row', { name: /my script/ })).toContainText('jobs:read, jobs:write, credits:buy');
		const bought = await fetch(`${baseURL}/api/credits/purchase`, {
			method: 'POST',
			headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
			body: JSON.stringify({ pack: 'starter' })
		});
		expect(bought.status).toBe(201);
	});

	await test.step('delete the account: the password and the phrase, then the login and the key are refused', async () => {
		await page.goto('/account');
		await page.getByTestId('delete-account').click();
		const form = page.getByTestId('delete-account-form');
		const submit = form.getByRole('button', { name: 'Delete my account forever' });
		await form.getByLabel('Your password').fill('not my password');
		await expect(submit).toBeDisabled();
		await form.getByLabel(/to confirm/).fill('delete my account');
		await submit.click();
		await expect(form.getByRole('alert')).toContainText('password is wrong');
		await expect(page.getByTestId('account-email')).toHaveText(email);

		await form.getByLabel('Your password').fill(password);
		await submit.click();
		await page.waitForURL((url) => url.pathname === '/' && url.searchParams.has('deleted'));
		await expect(page.getByTestId('account-deleted')).toBeVisible();
		await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' })).toBeVisible();

		await page.goto('/login');
		await page.getByLabel('Email').fill(email);
		await page.getByLabel('Password').fill(password);
		await page.getByRole('button', { name: 'Log in' }).click();
		await expect(page.getByRole('alert')).toHaveText('Email or password is wrong.');
		expect((await fetch(`${baseURL}/api/me`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
	});
});

test('the API document reads as a page', async ({ page }) => {
	await page.goto('/docs/api');
	await expect(page.getByRole('heading', { name: /Archipelago API/ })).toBeVisible();
	await expect(page.getByTestId('operation').filter({ hasText: '/api/jobs/{id}/image' })).toContainText('jobs:write');
	await expect(page.getByTestId('operation').filter({ hasText: 'Delete your account' })).toContainText('A signed-in session only');
	await expect(page.locator('#schema-Job')).toContainText('imageDeletedAt');
	await expect(page.getByRole('link', { name: '/api/openapi.json' })).toBeVisible();
});
