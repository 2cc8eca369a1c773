// Island trust as people meet it, on a server with trust on (probation, quarantine): an
// unverified owner is sent to verify, a new browser Island shows its probation and then its
// quarantine, and an admin sees a quarantined Island's evidence on /admin and reinstates it.
import type { Page } from '@playwright/test';
import { ApiClient } from '../../harness/client';
import { startServer, type TestServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, decideIsland, ledgerAdmin, setKyc } from '../../harness/broker';
import { honest, islandOf, otherPicture, run, type RunningIsland } from '../../harness/trust-islands';
import { expect, signUp, test as base } from './fixtures';

const K = 2;

const test = base.extend<object, { server: TestServer; operator: { admin: ApiClient; reference: RunningIsland } }>({
	server: [
		async ({}, use) => {
			const server = await startServer('pglite', {
				env: { BUILTIN_ISLANDS: '0', ADMIN_CLAIM_TOKEN, TRUST_PROBATION_CANARIES: String(K), TRUST_CANARY_POOL: '2' }
			});
			await use(server);
			await server.dispose();
		},
		{ scope: 'worker', timeout: 120_000 }
	],
	// The operator's vouched reference Island computes the canaries' known answers (as in
	// tests/api/trust.test.ts). It draws with the test Islands' stand-in model (drawFor).
	operator: [
		async ({ server }, use) => {
			const admin = await ledgerAdmin(server.url);
			await setKyc(admin, 'verified');
			const island = await islandOf(admin);
			await decideIsland(admin, island.id, 'vouch');
			const reference = run(island, honest);
			await use({ admin, reference });
			await reference.stop();
		},
		{ scope: 'worker', timeout: 60_000 }
	]
});

/** The page's browser context signs in with the API client's session. */
async function signInAs(page: Page, client: ApiClient, url: string) {
	await page.context().addCookies([{ name: 'session', value: client.cookie.slice('session='.length), url }]);
}

async function openIsland(page: Page) {
	await page.goto('/island');
	await expect(page.getByTestId('webgpu-summary')).not.toHaveText('Checking for WebGPU…');
	await page.getByLabel('WASM (your CPU)').check();
}

test('an unverified owner is sent to verify, before and after pressing Start', async ({ page, operator: _ }) => {
	await signUp(page);
	await openIsland(page);
	const standing = page.getByTestId('island-standing');
	await expect(standing).toContainText('Verify your identity to run an Island');
	await page.getByRole('button', { name: 'Start earning' }).click();
	// Registration answers 403 owner_not_verified: told as a refusal, not as a broken connection.
	await expect(page.getByTestId('island-status')).toHaveText('Stopped: the broker refused this Island (see Standing)', { timeout: 60_000 });
	await expect(standing.getByRole('link', { name: 'Verify your identity' })).toHaveAttribute('href', '/verify');
	await expect(page.getByText(/Broker unreachable|Registering this Island failed/)).toHaveCount(0);
});

test('an admin sees a quarantined Island’s two pictures side by side and reinstates it', async ({ page, server, operator }) => {
	const owner = new ApiClient(server.url);
	await owner.signUp();
	await setKyc(owner, 'verified');
	const island = await islandOf(owner);
	const liar = run(island, otherPicture);
	const trust = async () => (await owner.json('GET', '/api/islands')).body.islands[0].trust as string;
	await expect.poll(trust, { timeout: 60_000 }).toBe('quarantined');
	await liar.stop();

	await signInAs(page, operator.admin, server.url);
	await page.goto('/admin');
	const card = page.locator(`[data-testid="review-island"][data-island-id="${island.id}"]`);
	await expect(card).toContainText('quarantined');
	await expect(card).toContainText('Reason: a known-answer job came back different');
	const check = card.getByTestId('review-check').first();
	await expect(check).toHaveAttribute('data-same', 'false');
	await expect(check).toContainText('✗ differs');
	await check.scrollIntoViewIfNeeded();
	const images = check.locator('img');
	await expect(images).toHaveCount(2);
	// Both pictures load from /admin/images (same origin, so the CSP allows them), and differ.
	const sizes = await images.evaluateAll((els) => Promise.all(els.map(async (e) => ((await (e as HTMLImageElement).decode()), (e as HTMLImageElement).naturalWidth))));
	expect(sizes.every((w) => w > 0)).toBe(true);
	const [a, b] = await Promise.all((await images.all()).map(async (img) => (await page.request.get((await img.getAttribute('src'))!)).body()));
	expect(a.equals(b)).toBe(false);

	await card.getByRole('button', { name: 'Reinstate' }).click();
	await expect(page.getByText('Reinstated the Island.')).toBeVisible();
	await expect(card).toHaveCount(0);
	expect(await trust()).toBe('trusted');
});

test('a new browser Island shows its probation, then its quarantine when a test job comes back different', async ({ page, operator: _ }) => {
	await signUp(page);
	const kyc = await page.request.post('/api/kyc/start', { data: { legalName: 'Test Person', dateOfBirth: '1990-01-01', country: 'FR' } });
	expect(kyc.status()).toBe(200);
	await openIsland(page);
	const standing = page.getByTestId('island-standing');
	await expect(standing).toHaveAttribute('data-kind', 'unknown');
	await page.getByRole('button', { name: 'Start earning' }).click();
	await expect(page.getByTestId('island-trust')).toHaveText(`On probation: 0 of ${K} test jobs passed (it runs only test jobs until then).`, { timeout: 60_000 });
	await expect(page.getByTestId('island-escrowed')).toHaveText('0');
	// The known answers come from the reference Island's stand-in model, so the tab's real demo
	// model draws something else: it is caught as a liar would be, and its next claim is refused.
	await expect(page.getByTestId('island-trust')).toHaveText(/^Quarantined: a known-answer job came back different/, { timeout: 90_000 });
	await expect(page.getByTestId('island-status')).toHaveText('Stopped: the broker refused this Island (see Standing)');
	await expect(page.getByText('Broker unreachable')).toHaveCount(0);
	// Its canary pay sat in escrow and went back with the quarantine.
	await expect(page.getByTestId('island-escrowed')).toHaveText('0');
});
