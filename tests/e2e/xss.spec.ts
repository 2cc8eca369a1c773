// Prompts, names and image metadata carrying HTML and JavaScript are shown as text on every
// page that shows them (/image history and result, /account, /admin): no payload runs. Each
// payload would record itself in window.__xss (or open a dialog) if it ever executed.
import type { Page } from '@playwright/test';
import { expect, testWithOwnServer } from './fixtures';
import { ApiClient } from '../../harness/client';
import { ADMIN_CLAIM_TOKEN, claimAdmin, demoParams, setKyc } from '../../harness/broker';
import { TestIsland } from '../../harness/test-island';
import { encodePng } from '../../src/lib/diffusion/png';

const ADMIN = 'xss-admin@example.com';

const payload = (tag: string) => `<img src=x onerror="(window.__xss=window.__xss||[]).push('${tag}')">`;
const script = (tag: string) => `<script>(window.__xss=window.__xss||[]).push('${tag}')</script>`;

const test = testWithOwnServer({ ADMIN_CLAIM_TOKEN });

/** An admin who is also a requester and an Island owner, with hostile text everywhere. */
async function hostileData(url: string) {
	const me = new ApiClient(url);
	await me.signUp(ADMIN);
	await claimAdmin(me);
	await setKyc(me, 'verified');
	await me.buy('creator');
	// A finished job whose PNG metadata carries the payload too, and one still queued.
	const prompt = `${payload('prompt')} ${script('prompt-script')}`;
	const negativePrompt = `${payload('negative')}"><svg onload="window.__xss=['svg']">`;
	expect((await me.json('POST', '/api/jobs', { json: { params: demoParams({ prompt, negativePrompt }) } })).status).toBe(201);
	const r = await me.json('POST', '/api/islands', { json: { name: payload('island').slice(0, 80) } });
	expect(r.status).toBe(201);
	const island = new TestIsland(url, r.body.token, r.body.island.id);
	expect((await island.call('POST', '/api/islands/heartbeat', { backend: 'node', models: ['demo'], maxPixels: 512 * 512 })).status).toBe(200);
	const claim = (await island.claim())!;
	const { width, height, steps, seed, guidance, model } = claim.job.params as typeof claim.job.params & { guidance: number };
	const png = encodePng(new Uint8Array(width * height * 4).fill(200), width, height, { prompt, negativePrompt, width, height, steps, seed, guidance, model });
	expect((await island.result(claim.job.id, claim.lease.token, png)).status).toBe(200);
	expect((await me.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: script('queued') }) } })).status).toBe(201);
	// A refused prompt (shown on /admin), an API key name (shown on /account).
	expect((await me.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: `${payload('rejected')} gore` }) } })).status).toBe(422);
	expect((await me.json('POST', '/api/keys', { json: { name: `<img src=x onerror=alert('key')>` } })).status).toBe(201);
	// Someone waiting for review, whose legal name is the payload (shown on /admin).
	const pending = new ApiClient(url);
	await pending.signUp();
	const kyc = await pending.json('POST', '/api/kyc/start', { json: { legalName: `pending ${payload('legal-name')}`.slice(0, 100), dateOfBirth: '1990-01-01', country: 'FR' } });
	expect(kyc.status).toBeLessThan(300);
	return me;
}

async function signIn(page: Page, url: string, client: ApiClient) {
	const [name, value] = client.cookie.split('=');
	await page.context().addCookies([{ name, value, url }]);
}

async function expectInert(page: Page, path: string, shown: string[]) {
	const dialogs: string[] = [];
	page.on('dialog', (d) => {
		dialogs.push(d.message());
		void d.dismiss();
	});
	await page.goto(path);
	await page.waitForLoadState('networkidle');
	// The hostile text is on the page, as text…
	for (const text of shown) await expect(page.getByText(text, { exact: false }).first()).toBeAttached();
	// …and nothing of it ran: no handler fired, no script element or handler attribute came from it.
	expect(await page.evaluate(() => (window as unknown as { __xss?: string[] }).__xss ?? [])).toEqual([]);
	expect(dialogs).toEqual([]);
	expect(await page.locator('img[onerror], svg[onload]').count()).toBe(0);
}

test('prompts, names and metadata with HTML/JS render inert on /image, /account and /admin', async ({ page, server, cspViolations }) => {
	const me = await hostileData(server.url);
	await signIn(page, server.url, me);
	await expectInert(page, '/image', ["onerror=\"(window.__xss"]);
	await expectInert(page, '/account', ["onerror=alert('key')"]);
	await expectInert(page, '/admin', ["push('prompt')", "push('rejected')", "push('island')", "push('legal-name')"]);
	// The detector works: the same payload, injected as HTML, is live, and the CSP stops its
	// handler (a payload rendered as HTML anywhere above would have been reported the same way,
	// and csp-guard fails the test on any report it didn't expect).
	await page.evaluate((html) => document.body.insertAdjacentHTML('beforeend', html), payload('control'));
	const blocked = (v: string) => v.includes('script-src-attr') || v.includes('inline event handler');
	await expect.poll(() => cspViolations.some(blocked)).toBe(true);
	expect(await page.evaluate(() => (window as unknown as { __xss?: string[] }).__xss ?? [])).toEqual([]);
	cspViolations.splice(0, cspViolations.length, ...cspViolations.filter((v) => !blocked(v)));
});
