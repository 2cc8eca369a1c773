// The /image journey's last steps (image.spec.ts runs them on its one page, once the image is
// made and shared): the history, then a rejected prompt, a cancel while queued, credits spent
// by another tab and a balance too low to generate.
import type { Page } from '@playwright/test';
import { balance, expect, ready, shoot, test } from './image-page';

/** `firstJob` was cancelled while running; `failedSeed` is the seed of the failed job that Try again then completed. */
export async function historyAndRefusalSteps(page: Page, firstJob: string, failedSeed: string) {
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
}
