// Security headers of the production server (finding 9): a strict CSP on every page, no
// framing, referrers kept in, HSTS only over https, and share links never cached past expiry.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { BROKER_ENV, demoParams, requester, setKyc } from '../../harness/broker';
import { TestIsland } from '../../harness/test-island';
import { signedImageUrl } from '../../src/lib/server/jobs/images';

const SHARE_SECRET = 'headers-test-share-secret';
const PAGES = ['/', '/login', '/signup', '/image', '/island'];

/** The CSP header as directive → sources. */
function parseCsp(header: string | null): Map<string, string[]> {
	expect(header, 'Content-Security-Policy header').toBeTruthy();
	return new Map(
		header!
			.split(';')
			.map((d) => d.trim().split(/\s+/))
			.filter(([name]) => name)
			.map(([name, ...sources]) => [name, sources])
	);
}

describe.each(drivers)('security headers on %s', (driver) => {
	let server: TestServer;
	let user: ApiClient;
	beforeAll(async () => {
		server = await startServer(driver, { env: { ...BROKER_ENV, SHARE_SECRET } });
		user = await requester(server.url);
	});
	afterAll(() => server?.dispose());

	it('sends a strict Content-Security-Policy on every page, signed in or not', async () => {
		for (const client of [new ApiClient(server.url), user]) {
			for (const path of PAGES) {
				const res = await client.request('GET', path);
				if (res.status !== 200) continue; // signed out, /image and /island redirect to /login
				expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
				const csp = parseCsp(res.headers.get('content-security-policy'));
				const html = await res.text();
				expect(csp.get('frame-ancestors'), path).toEqual(["'none'"]);
				expect(csp.get('default-src'), path).toEqual(["'self'"]);
				expect(csp.get('object-src'), path).toEqual(["'none'"]);
				expect(csp.get('base-uri'), path).toEqual(["'self'"]);
				expect(csp.get('form-action'), path).toEqual(["'self'"]);
				expect(csp.get('connect-src'), path).toEqual(["'self'", 'blob:']);
				const scripts = csp.get('script-src') ?? [];
				expect(scripts, path).toContain("'self'");
				expect(scripts, path).toContain("'wasm-unsafe-eval'");
				expect(scripts.join(' '), path).not.toMatch(/'unsafe-eval'|'unsafe-inline'|\*|https?:/);
				// The nonce is fresh per response and is the one on SvelteKit's inline boot script.
				const nonce = scripts.find((s) => s.startsWith("'nonce-"))?.slice(7, -1);
				expect(nonce, path).toBeTruthy();
				expect(html, path).toContain(`nonce="${nonce}"`);
				expect(csp.get('style-src'), path).toEqual(["'self'"]);
			}
		}
		const [a, b] = await Promise.all([fetch(`${server.url}/login`), fetch(`${server.url}/login`)]);
		expect(a.headers.get('content-security-policy')).not.toBe(b.headers.get('content-security-policy'));
	});

	it('forbids framing and keeps referrers in on pages, APIs and static files alike', async () => {
		for (const path of [...PAGES, '/api/health', '/offline.html', '/manifest.webmanifest', '/models/demo/manifest.json']) {
			const res = await fetch(server.url + path, { redirect: 'manual' });
			await res.arrayBuffer();
			expect(res.headers.get('x-frame-options'), path).toBe('DENY');
			expect(res.headers.get('referrer-policy'), path).toBe('strict-origin-when-cross-origin');
			// Plain http, and nothing configured to say otherwise: no HSTS.
			expect(res.headers.get('strict-transport-security'), path).toBeNull();
		}
		// A client can't claim https for itself when no proxy header is configured.
		const spoofed = await fetch(`${server.url}/login`, { headers: { 'x-forwarded-proto': 'https', 'x-archipelago-proto': 'https' } });
		expect(spoofed.headers.get('strict-transport-security')).toBeNull();
	});

	it('serves a share link expiring in N seconds with max-age ≤ N; the owner’s copy stays private', async () => {
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		const island = await TestIsland.register(owner);
		const job = (await user.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		await island.runOne();
		const mine = (await user.json('GET', `/api/jobs/${job.id}`)).body.job;
		const imageId = /\/api\/images\/([^.]+)\.png/.exec(mine.imageUrl)![1];

		const own = await user.request('GET', mine.imageUrl);
		expect(own.status).toBe(200);
		expect(own.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
		expect(own.headers.get('vary')).toMatch(/cookie/i);

		for (const ttl of [30, 600]) {
			const res = await new ApiClient(server.url).request('GET', signedImageUrl(SHARE_SECRET, imageId, ttl));
			expect(res.status).toBe(200);
			const cc = res.headers.get('cache-control') ?? '';
			expect(cc).toMatch(/^public, max-age=\d+$/);
			const maxAge = Number(/max-age=(\d+)/.exec(cc)![1]);
			expect(maxAge).toBeLessThanOrEqual(ttl);
			expect(maxAge).toBeGreaterThan(ttl - 10);
		}
		// A week-long link is still cached for an hour at most.
		const week = await new ApiClient(server.url).request('GET', mine.shareUrl);
		expect(week.headers.get('cache-control')).toBe('public, max-age=3600');
	});
});

describe('HSTS behind a TLS-terminating proxy', () => {
	it('is sent when PROTOCOL_HEADER says https, and not when it says http', async () => {
		const server = await startServer('pglite', { env: { PROTOCOL_HEADER: 'x-forwarded-proto', KYC_PROVIDER: 'sandbox' } });
		onTestFinished(() => server.dispose());
		const https = await fetch(`${server.url}/login`, { headers: { 'x-forwarded-proto': 'https' } });
		expect(https.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains');
		const chained = await fetch(`${server.url}/api/health`, { headers: { 'x-forwarded-proto': 'https, http' } });
		expect(chained.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains');
		const http = await fetch(`${server.url}/login`, { headers: { 'x-forwarded-proto': 'http' } });
		expect(http.headers.get('strict-transport-security')).toBeNull();
	});

	it('is sent on every response when ORIGIN is https', async () => {
		const server = await startServer('pglite', { env: { ORIGIN: 'https://archipelago.example', KYC_PROVIDER: 'sandbox' } });
		onTestFinished(() => server.dispose());
		const fixed = await fetch(`${server.url}/api/health`);
		expect(fixed.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains');
	});
});
