// Every e2e test fails on a Content-Security-Policy violation: a blocked script, style,
// image, fetch or worker is a feature broken by the policy, even when the test's own
// assertions happen not to notice. Specs import `test` from here (or from a file that does).
import { test as base, expect, type Browser, type BrowserContext, type ConsoleMessage } from '@playwright/test';

/** Chromium logs "Refused to … because it violates the following Content Security Policy directive". */
const VIOLATION = /Content Security Policy/i;

/** Records CSP violations from the context's pages, their workers and service workers into `seen`. */
export async function watchCsp(context: BrowserContext, seen: string[]): Promise<void> {
	const record = (m: ConsoleMessage) => {
		if (VIOLATION.test(m.text())) seen.push(`${m.location().url || '(unknown)'}: ${m.text()}`);
	};
	context.on('console', record);
	context.on('page', (page) => page.on('worker', (w) => w.on('console', record)));
	context.on('serviceworker', (w) => w.on('console', record));
	// The event carries what the console line may not (the directive and the blocked URL).
	await context.addInitScript(() => {
		if (typeof document === 'undefined') return;
		document.addEventListener('securitypolicyviolation', (e) =>
			console.error(`Content Security Policy violation: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`)
		);
	});
}

export const test = base.extend<{ cspViolations: string[] }>({
	cspViolations: [
		async ({ browser, context }, use) => {
			const seen: string[] = [];
			await watchCsp(context, seen);
			// Contexts a test opens itself (a second user, a fresh profile) are watched too.
			const newContext = browser.newContext;
			browser.newContext = async function (this: Browser, ...args: Parameters<Browser['newContext']>) {
				const created = await newContext.apply(this, args);
				await watchCsp(created, seen);
				return created;
			};
			try {
				await use(seen);
			} finally {
				browser.newContext = newContext;
			}
			expect(seen, 'Content Security Policy violations').toEqual([]);
		},
		{ auto: true }
	]
});

export { expect };
