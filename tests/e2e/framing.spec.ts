// Clickjacking (finding 9): a page on another origin that frames /login gets an empty frame,
// not the sign-in form. CSP's frame-ancestors 'none' refuses it (X-Frame-Options for old
// browsers); a frame of the attacker's own origin on the same page loads, so frames work.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from './fixtures';

test('a page on another origin cannot frame /login', async ({ page, baseURL, cspViolations }) => {
	const attacker = http.createServer((req, res) => {
		res.setHeader('content-type', 'text/html');
		if (req.url === '/own') return res.end('<!doctype html><p id="own">attacker frame</p>');
		res.end(`<!doctype html><title>attacker</title>
			<iframe id="victim" src="${baseURL}/login" width="600" height="400"></iframe>
			<iframe id="own" src="/own"></iframe>`);
	});
	await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
	try {
		const attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
		expect(new URL(attackerUrl).origin).not.toBe(new URL(baseURL).origin);
		await page.goto(attackerUrl);
		await expect(page.frameLocator('#own').locator('#own')).toHaveText('attacker frame');

		// The browser reports the refusal; then nothing of /login is in any frame.
		await expect.poll(() => cspViolations.some((v) => v.includes('frame-ancestors'))).toBe(true);
		await page.waitForTimeout(500);
		for (const frame of page.frames()) {
			expect(await frame.locator('input[type="password"]').count(), frame.url()).toBe(0);
			expect(await frame.getByRole('heading', { name: 'Log in' }).count(), frame.url()).toBe(0);
		}
		// The refusal was the point: the guard's check is for violations nobody expected.
		cspViolations.splice(0, cspViolations.length, ...cspViolations.filter((v) => !v.includes('frame-ancestors')));
	} finally {
		await new Promise((resolve) => attacker.close(resolve));
	}
});
