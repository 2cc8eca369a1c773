import type { Page } from '@playwright/test';
import { test as base, expect } from './csp-guard';
import { randomUUID } from 'node:crypto';
import { startServer, type TestServer } from '../../harness/server';
import { TRUST_OFF } from '../../harness/broker';

/** One production server per worker, on PGlite in a temporary directory. */
export const test = base.extend<{ baseURL: string }, { server: TestServer }>({
	server: [
		async ({}, use) => {
			const server = await startServer('pglite', { env: { BUILTIN_ISLANDS: process.env.E2E_BUILTIN_ISLANDS ?? '0', ...TRUST_OFF } });
			await use(server);
			await server.dispose();
		},
		{ scope: 'worker', timeout: 120_000 }
	],
	baseURL: async ({ server }, use) => use(server.url)
});

export { expect };

/**
 * A test with a server of its own, started for it and disposed after (specs whose Islands must
 * not take other specs' jobs, nor leave theirs): PGlite, no built-in Island, trust off, `env` on top.
 */
export function testWithOwnServer(env: Record<string, string> = {}) {
	return base.extend<{ server: TestServer; baseURL: string }>({
		server: async ({}, use) => {
			const server = await startServer('pglite', { env: { BUILTIN_ISLANDS: '0', ...TRUST_OFF, ...env } });
			await use(server);
			await server.dispose();
		},
		baseURL: async ({ server }, use) => use(server.url)
	});
}

export async function signUp(page: Page, email = `e2e-${randomUUID()}@example.com`, password = 'correct horse battery') {
	await page.goto('/signup');
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Create account' }).click();
	await page.waitForURL((url) => !url.pathname.startsWith('/signup'));
	return { email, password };
}
