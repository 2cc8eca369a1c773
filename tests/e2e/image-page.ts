// What the /image specs share (image.spec.ts with its steps in image-onboarding.ts and
// image-history.ts, and image-refusals.spec.ts): a server of their own, screenshots of each
// key state in test-results/image/, signing up from the form, and waiting for hydration.
import { mkdirSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { expect, testWithOwnServer } from './fixtures';

// A server of its own: the /image journey registers Islands and leaves jobs queued, which must
// not reach other specs' Islands on the shared worker server (nor theirs reach ours). It spends
// a balance down with ten queued images, past the default limit of 4 in flight per user
// (image-batches.spec.ts walks that limit).
export const test = testWithOwnServer({ MAX_ACTIVE_JOBS_PER_USER: '20' });
export { expect };

export const SHOTS = 'test-results/image';
mkdirSync(SHOTS, { recursive: true });

/** The state at 1280 px and at 375 px (the phone width the page must work at). */
export async function shoot(page: Page, name: string) {
	await page.setViewportSize({ width: 1280, height: 900 });
	await page.screenshot({ path: `${SHOTS}/${name}-1280.png`, fullPage: true });
	await page.setViewportSize({ width: 375, height: 812 });
	await page.screenshot({ path: `${SHOTS}/${name}-375.png`, fullPage: true });
	await page.setViewportSize({ width: 1280, height: 900 });
}

export const balance = (page: Page) => page.getByTestId('image-balance');

/**
 * Signs up on /signup?next=… as a person would. On a busy machine a click can land before the
 * app has hydrated, and the bare HTML form then reloads the page instead of signing up (and
 * drops `next`): such a try is simply made again, on a fresh /signup?next=….
 */
export async function signUpFromForm(page: Page, next: string) {
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
export const ready = (page: Page) => expect(page.locator('form[data-ready="true"]')).toBeVisible();
