// Identity verification as a person meets it: blocked from generating, verified in the
// sandbox, then allowed; and the pending path through the admin console.
import { randomUUID } from 'node:crypto';
import type { Page } from '@playwright/test';
import { startServer, type TestServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, demoParams, TRUST_OFF } from '../../harness/broker';
import { expect, signUp, test as base } from './fixtures';

const ADMIN = `e2e-admin-${randomUUID()}@example.com`;

// Same as the shared fixture, plus an admin address for the review walk.
const test = base.extend<object, { server: TestServer }>({
	server: [
		async ({}, use) => {
			const server = await startServer('pglite', { env: { BUILTIN_ISLANDS: '0', ADMIN_CLAIM_TOKEN, ...TRUST_OFF } });
			await use(server);
			await server.dispose();
		},
		{ scope: 'worker', timeout: 120_000 }
	]
});

/** Submits a job from the page itself, with the browser's own session cookie. */
function submitFromPage(page: Page) {
	return page.evaluate(async (params) => {
		const res = await fetch('/api/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ params }) });
		return { status: res.status, body: await res.json() };
	}, demoParams());
}

async function buyCredits(page: Page) {
	const res = await page.request.post('/api/credits/purchase', { data: { pack: 'starter' }, headers: { 'idempotency-key': randomUUID() } });
	expect(res.status()).toBe(201);
}

async function fillSandbox(page: Page, legalName: string) {
	await page.getByLabel('Legal name').fill(legalName);
	await page.getByLabel('Date of birth').fill('1990-01-15');
	await page.getByLabel('Country').selectOption('FR');
	await page.getByRole('button', { name: 'Verify (sandbox)' }).click();
}

test('sign up → blocked from generating → verify in the sandbox → allowed', async ({ page }) => {
	await signUp(page);
	await buyCredits(page);

	await page.goto('/image');
	const note = page.getByTestId('kyc-note');
	await expect(note).toContainText('Verify your identity to generate images');
	await expect(note).toContainText('no free tier');
	const blocked = await submitFromPage(page);
	expect(blocked.status).toBe(403);
	expect(blocked.body.error.code).toBe('kyc_required');

	await note.getByRole('link', { name: 'Verify your identity' }).click();
	await page.waitForURL('**/verify');
	await expect(page.getByText('There is no free tier for this feature due to content safety requirements')).toBeVisible();
	await expect(page.getByRole('heading', { name: /Sandbox verification/ })).toBeVisible();

	// Under 18 is refused in the form, before anything is sent.
	await page.getByLabel('Legal name').fill('Young Person');
	await page.getByLabel('Date of birth').fill(`${new Date().getFullYear() - 10}-01-01`);
	await page.getByLabel('Country').selectOption('FR');
	await page.getByRole('button', { name: 'Verify (sandbox)' }).click();
	await expect(page.getByTestId('kyc-error')).toHaveText('You must be at least 18 years old.');
	await expect(page.getByTestId('kyc-status')).toHaveAttribute('data-status', 'unverified');

	await fillSandbox(page, 'Marie Curie');
	await expect(page.getByTestId('kyc-status')).toHaveAttribute('data-status', 'verified');
	await page.getByRole('link', { name: 'Create an image' }).click();
	await page.waitForURL('**/image');
	await expect(page.getByTestId('kyc-note')).toHaveCount(0);
	const allowed = await submitFromPage(page);
	expect(allowed.status).toBe(201);
	expect(allowed.body.job.status).toBe('queued');
});

test('a rejected name shows why and when to retry', async ({ page }) => {
	await signUp(page);
	await page.goto('/verify');
	await fillSandbox(page, 'Reject Ronald');
	await expect(page.getByTestId('kyc-status')).toHaveAttribute('data-status', 'rejected');
	await expect(page.getByText(/the sandbox rejected it/)).toBeVisible();
	await expect(page.getByText(/You can try again after/)).toBeVisible();
	await expect(page.getByRole('button', { name: 'Verify (sandbox)' })).toHaveCount(0);
});

test('a pending name waits for an admin, who approves it in /admin', async ({ page, browser }) => {
	await signUp(page);
	await page.goto('/verify');
	await fillSandbox(page, 'Pending Paula');
	await expect(page.getByTestId('kyc-status')).toHaveAttribute('data-status', 'pending');
	await expect(page.getByText('An admin will review your details')).toBeVisible();
	expect((await page.goto('/admin'))?.status()).toBe(404);

	const adminContext = await browser.newContext({ baseURL: new URL(page.url()).origin });
	const admin = await adminContext.newPage();
	await signUp(admin, ADMIN);
	// Admin rights come from the operator's claim token, never from the email signed up with.
	await expect(admin.getByRole('link', { name: 'Admin' })).toHaveCount(0);
	await admin.goto('/admin/claim');
	await admin.getByLabel('Claim token').fill(ADMIN_CLAIM_TOKEN);
	await admin.getByRole('button', { name: 'Claim' }).click();
	await admin.waitForURL((url) => url.pathname === '/admin');
	await admin.getByRole('link', { name: 'Admin' }).click();
	await expect(admin.getByTestId('ledger-result')).toHaveAttribute('data-ok', 'true');
	const row = admin.getByTestId('admin-pending').getByRole('row', { name: /Pending Paula/ });
	await row.getByRole('button', { name: 'Approve' }).click();
	await expect(admin.getByTestId('admin-pending')).toContainText('Nobody is waiting for review.');
	await adminContext.close();

	await page.goto('/verify');
	await expect(page.getByTestId('kyc-status')).toHaveAttribute('data-status', 'verified');
});
