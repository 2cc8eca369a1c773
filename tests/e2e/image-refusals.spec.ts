// /image refusing what only the server can refuse: an identity revoked after the page loaded,
// and the rate limit on /api/jobs*.
import type { Page } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { startServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, ledgerAdmin, revokeKyc, TRUST_OFF } from '../../harness/broker';
import { expect, ready, shoot, signUpFromForm, test } from './image-page';

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
