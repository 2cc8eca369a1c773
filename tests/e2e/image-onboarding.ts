// The /image journey's first steps (image.spec.ts runs them on its one page): an anonymous
// visitor is sent to sign up, verifies, buys credits, then meets the empty form (validation,
// keyboard order, each model's example prompts).
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { balance, expect, ready, shoot, SHOTS, signUpFromForm, test } from './image-page';

/** The built-in models' names and words as their manifests say them (the objects model's are a stand-in's until its export lands). */
const manifest = (id: string) => JSON.parse(readFileSync(new URL(`../../static/models/${id}/manifest.json`, import.meta.url), 'utf8')) as { name: string; description: string };
const [DEMO, OBJECTS] = [manifest('demo'), manifest('objects')];

/** Leaves `page` on /image, verified, with 100 credits and the demo example prompt filled in. */
export async function onboardingSteps(page: Page) {
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
}
