import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page, Request, Response } from '@playwright/test';
import { startServer, type TestServer } from '../../harness/server';
import { expect, signUp, test } from './fixtures';
import { watchCsp } from './csp-guard';

const root = new URL('../..', import.meta.url).pathname;

interface Manifest {
	id?: string;
	name: string;
	short_name: string;
	description: string;
	start_url: string;
	scope: string;
	display: string;
	theme_color: string;
	background_color: string;
	icons: { src: string; sizes: string; type: string; purpose?: string }[];
	shortcuts: { name: string; url: string }[];
}

/** Width and height from a PNG's IHDR chunk (the first chunk, right after the signature). */
function pngSize(bytes: Buffer) {
	expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
	expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
	return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** A colour custom property from src/app.css's light theme (the first, :root, definition). */
function cssColour(name: string) {
	const css = readFileSync(join(root, 'src/app.css'), 'utf8');
	return css.match(new RegExp(`--${name}:\\s*(#[0-9a-f]{6})`, 'i'))![1].toLowerCase();
}

/** Waits until the service worker has installed (precached), activated and claimed the page. */
async function controlled(page: Page) {
	await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated', undefined, { timeout: 60_000 });
}

const shellCaches = (page: Page) => page.evaluate(() => caches.keys().then((keys) => keys.filter((k) => k.startsWith('archipelago-shell-'))));
const cachedPaths = (page: Page) =>
	page.evaluate(async () => {
		const paths: string[] = [];
		for (const key of await caches.keys()) {
			for (const request of await (await caches.open(key)).keys()) paths.push(new URL(request.url).pathname);
		}
		return paths;
	});

test('the manifest is linked and valid, its icons have their stated sizes, and Chromium finds the app installable', async ({ playwright, baseURL }) => {
	// Chromium never offers to install from an incognito-like context (Playwright's default:
	// "in-incognito"), so this one runs in a persistent profile.
	const profile = mkdtempSync(join(tmpdir(), 'archipelago-pwa-'));
	const context = await playwright.chromium.launchPersistentContext(profile, { ...test.info().project.use.launchOptions, baseURL });
	const violations: string[] = [];
	try {
		await watchCsp(context, violations);
		await installable(await context.newPage());
		expect(violations, 'Content Security Policy violations').toEqual([]);
	} finally {
		await context.close();
		rmSync(profile, { recursive: true, force: true });
	}
});

async function installable(page: Page) {
	await page.goto('/');
	const href = await page.locator('link[rel="manifest"]').getAttribute('href');
	expect(href).toBeTruthy();
	await expect(page.locator('meta[name="theme-color"]').first()).toHaveAttribute('content', /^#[0-9a-f]{6}$/i);

	const response = await page.request.get(new URL(href!, page.url()).href);
	expect(response.status()).toBe(200);
	expect(response.headers()['content-type']).toContain('application/manifest+json');
	const manifest = (await response.json()) as Manifest;
	expect(manifest).toMatchObject({ name: 'Archipelago', start_url: '/image', scope: '/', display: 'standalone' });
	expect(manifest.short_name.length).toBeGreaterThan(0);
	expect(manifest.short_name.length).toBeLessThanOrEqual(12);
	expect(manifest.description.length).toBeGreaterThan(0);
	// The splash screen and title bar match the app's light theme (the page's <meta> covers dark).
	expect(manifest.background_color.toLowerCase()).toBe(cssColour('bg'));
	expect(manifest.theme_color.toLowerCase()).toBe(cssColour('surface'));
	expect(manifest.shortcuts.map((s) => s.url).sort()).toEqual(['/image', '/island']);

	const icons = manifest.icons.map((icon) => ({ ...icon, purpose: icon.purpose ?? 'any' }));
	for (const want of [
		{ sizes: '192x192', purpose: 'any' },
		{ sizes: '512x512', purpose: 'any' },
		{ sizes: '512x512', purpose: 'maskable' }
	]) {
		expect(icons.some((i) => i.sizes === want.sizes && i.purpose.split(' ').includes(want.purpose)), JSON.stringify(want)).toBe(true);
	}
	for (const icon of icons) {
		const res = await page.request.get(new URL(icon.src, response.url()).href);
		expect(res.status(), icon.src).toBe(200);
		expect(res.headers()['content-type']).toBe('image/png');
		const { width, height } = pngSize(await res.body());
		expect(`${width}x${height}`, icon.src).toBe(icon.sizes);
	}

	await controlled(page);
	// Chromium's own verdict: the parsed manifest has no errors and nothing blocks installing.
	const cdp = await page.context().newCDPSession(page);
	const parsed = await cdp.send('Page.getAppManifest');
	expect(parsed.errors).toEqual([]);
	expect(new URL(parsed.url).pathname).toBe('/manifest.webmanifest');
	const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
	expect(installabilityErrors).toEqual([]);
}

test('the service worker precaches the shell by version; offline, kept pages load and others get the offline page', async ({ page, context }) => {
	await page.goto('/');
	await controlled(page);
	const keys = await shellCaches(page);
	expect(keys).toHaveLength(1);
	const version = await page.evaluate(() => fetch('/_app/version.json').then((r) => r.json() as Promise<{ version: string }>));
	expect(keys[0]).toBe(`archipelago-shell-${version.version}`);
	// Signed out, /image is only a redirect to /login: nothing to keep.
	await expect.poll(() => cachedPaths(page)).toContain('/');
	expect(await cachedPaths(page)).not.toContain('/image');
	// Signing up through the active worker (the page's own fetch, as the sign-up form does)
	// keeps the signed-in shell pages.
	const status = await page.evaluate(async (email) => {
		const body = JSON.stringify({ email, password: 'correct horse battery' });
		const res = await fetch('/api/auth/signup', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
		return res.status;
	}, `e2e-${randomUUID()}@example.com`);
	expect(status).toBe(201);
	await expect.poll(() => cachedPaths(page)).toContain('/image');
	await page.goto('/');
	const paths = await cachedPaths(page);
	expect(paths).toContain('/offline.html');
	expect(paths.some((p) => p.startsWith('/_app/immutable/entry/'))).toBe(true);
	expect(paths.filter((p) => /^\/(api|models|ort)\//.test(p))).toEqual([]);

	await context.setOffline(true);
	try {
		const chunks: { url: string; fromServiceWorker: boolean }[] = [];
		const onResponse = (r: Response) =>
			r.url().includes('/_app/immutable/') && chunks.push({ url: r.url(), fromServiceWorker: r.fromServiceWorker() });
		const failed: string[] = [];
		const onFailed = (r: Request) => failed.push(r.url());
		page.on('response', onResponse);
		page.on('requestfailed', onFailed);
		const reloaded = await page.reload();
		expect(reloaded?.fromServiceWorker()).toBe(true);
		await expect(page.getByRole('heading', { name: 'Archipelago', level: 1 })).toBeVisible();
		await expect(page.getByRole('button', { name: 'Log out' })).toBeVisible();
		await page.waitForLoadState('load');
		page.off('response', onResponse);
		page.off('requestfailed', onFailed);
		// The app's code came from the precache, and nothing the page asked for failed.
		expect(chunks.length).toBeGreaterThan(0);
		expect(chunks.filter((c) => !c.fromServiceWorker)).toEqual([]);
		expect(failed).toEqual([]);
		// The cached response kept its COOP/COEP headers, so the page is still isolated (Island threads).
		expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

		// The installed app's start page, though this tab never opened it online.
		await page.goto('/image');
		await expect(page.getByRole('heading', { name: 'Create an image', level: 1 })).toBeVisible();

		await page.goto('/credits');
		await expect(page.getByRole('heading', { name: "You're offline" })).toBeVisible();
		await page.screenshot({ path: test.info().outputPath('offline-page.png') });
		expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
	} finally {
		await context.setOffline(false);
	}
	await page.getByRole('button', { name: 'Try again' }).click();
	await expect(page.getByTestId('balance-available')).toBeVisible();
});

test('/api/me always comes from the server, never from a cache', async ({ page, context }) => {
	// The worker in control first, then the sign-up: signing up while it was still installing
	// once left it activating past the wait (CI, 2026-11-28), the race the precache test avoids too.
	await page.goto('/');
	await controlled(page);
	const { email } = await signUp(page);
	await page.goto('/');

	const [me, body] = await Promise.all([
		page.waitForResponse((r) => r.url().endsWith('/api/me')),
		page.evaluate(() => fetch('/api/me').then((r) => r.text()))
	]);
	expect(me.fromServiceWorker()).toBe(false);
	expect(me.status()).toBe(200);
	expect(body).toContain(email);
	expect((await cachedPaths(page)).filter((p) => p.startsWith('/api/'))).toEqual([]);

	// Offline, there is no stale copy to fall back on: the request fails.
	await context.setOffline(true);
	try {
		expect(await page.evaluate(() => fetch('/api/me').then((r) => `status ${r.status}`, () => 'network error'))).toBe('network error');
	} finally {
		await context.setOffline(false);
	}

	// Signed out, the server's answer (401) wins over anything seen before.
	await page.getByRole('button', { name: 'Log out' }).click();
	await page.waitForURL('**/login');
	expect(await page.evaluate(() => fetch('/api/me').then((r) => r.status))).toBe(401);
	// Signing out also replaced the signed-in pages kept for offline use.
	const keptHome = () => page.evaluate(() => caches.match('/').then((r) => r?.text() ?? 'missing'));
	await expect.poll(keptHome).toContain('Sign up');
	expect(await keptHome()).not.toContain('Log out');
	expect(await cachedPaths(page)).not.toContain('/image');
});

test('after a rebuild and restart, the open page offers the new version and reloading switches to it', async ({ page }) => {
	test.setTimeout(360_000);
	// A second build with its own version, beside (not over) the shared build/ other specs use.
	const buildDir = 'test-results/pwa-update/build';
	const newVersion = `pwa-update-${Date.now()}`;
	rmSync(join(root, 'test-results/pwa-update'), { recursive: true, force: true });
	const building = promisify(execFile)(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build'], {
		cwd: root,
		env: { ...process.env, BUILD_DIR: buildDir, APP_VERSION: newVersion },
		maxBuffer: 64 * 1024 * 1024
	});

	let first: TestServer | undefined;
	let second: TestServer | undefined;
	try {
		first = await startServer('pglite');
		expect((await page.goto(`${first.url}/`))?.status()).toBe(200);
		await controlled(page);
		const globals = () => page.evaluate(() => Object.keys(globalThis).filter((k) => k.startsWith('__sveltekit_')));
		const oldGlobals = await globals();
		expect(oldGlobals).toHaveLength(1);
		await expect(page.getByText('A new version is available')).toHaveCount(0);

		await building;
		await first.stop();
		// Same origin (port) and data: a redeploy as a user's open tab sees it.
		second = await startServer('pglite', {
			port: Number(new URL(first.url).port),
			databaseEnv: first.databaseEnv,
			env: { BUILD_DIR: buildDir }
		});
		expect(await (await fetch(`${second.url}/_app/version.json`)).json()).toEqual({ version: newVersion });

		// SvelteKit polls /_app/version.json every 60 s (svelte.config.js).
		const banner = page.getByRole('status').filter({ hasText: 'A new version is available — reload' });
		await expect(banner).toBeVisible({ timeout: 90_000 });
		await page.screenshot({ path: test.info().outputPath('update-banner.png') });
		const reloaded = page.waitForEvent('load');
		await banner.getByRole('button', { name: 'reload' }).click();
		await reloaded;

		// The page now runs the new build, under the new worker, and the old version's cache is gone.
		await controlled(page);
		const newGlobals = await globals();
		expect(newGlobals).toHaveLength(1);
		expect(newGlobals).not.toEqual(oldGlobals);
		await expect.poll(() => shellCaches(page)).toEqual([`archipelago-shell-${newVersion}`]);
		await expect(page.getByText('A new version is available')).toHaveCount(0);
	} finally {
		await building.catch(() => undefined);
		await second?.stop();
		await first?.dispose();
		rmSync(join(root, 'test-results/pwa-update'), { recursive: true, force: true });
	}
});
