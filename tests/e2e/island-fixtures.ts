// Shared by the island-*.spec.ts files: a server with test hooks (KYC set directly) and an
// admin (ledger check), a requester driven through the API, a volunteer driven through /island.
import type { Page } from '@playwright/test';
import { test as base, expect } from './csp-guard';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApiClient } from '../../harness/client';
import { startServer, type TestServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, claimAdmin, setKyc, TRUST_OFF } from '../../harness/broker';
import { signUp } from './fixtures';

export const ADMIN_EMAIL = 'island-admin@example.test';

/** The specs' server, one per worker, with `env` on top of the defaults. */
function serverFixture(env: Record<string, string> = {}): [(args: object, use: (server: TestServer) => Promise<void>) => Promise<void>, { scope: 'worker'; timeout: number }] {
	return [
		async ({}, use: (server: TestServer) => Promise<void>) => {
			// Trust off: these Islands run requesters' jobs at once (trust.spec.ts covers probation).
			const server = await startServer('pglite', { env: { BUILTIN_ISLANDS: '0', ADMIN_CLAIM_TOKEN, ...TRUST_OFF, ...env } });
			await use(server);
			await server.dispose();
		},
		{ scope: 'worker', timeout: 120_000 }
	];
}

export const test = base.extend<{ baseURL: string }, { server: TestServer }>({
	server: serverFixture(),
	baseURL: async ({ server }, use) => use(server.url)
});

/**
 * `test` on a server of its own with these settings (short leases, say): Playwright runs its
 * tests in a worker of their own, so the other specs' server keeps the defaults.
 */
export const testWithServerEnv = (env: Record<string, string>) => test.extend<object, { server: TestServer }>({ server: serverFixture(env) });
export { expect };

/** The smallest job the broker accepts: 256×256 at the fewest standard steps. */
export const SMALL_JOB = { prompt: 'a red circle on a blue background', model: 'demo', width: 256, height: 256, steps: 4, seed: 1234, guidance: 5 };

const objects = JSON.parse(readFileSync(new URL('../../static/models/objects/manifest.json', import.meta.url), 'utf8')) as {
	sizes: [number, number][];
	steps: { standard: [number, number] };
	guidance: { default: number };
};
const [objectsWidth, objectsHeight] = [...objects.sizes].sort((a, b) => a[0] * a[1] - b[0] * b[1])[0];
/** The objects model's smallest job, from its manifest (its files are a stand-in until its export lands). */
export const OBJECTS_JOB = {
	prompt: 'a red apple on a blue background',
	model: 'objects',
	width: objectsWidth,
	height: objectsHeight,
	steps: objects.steps.standard[0],
	seed: 1234,
	guidance: objects.guidance.default
};

/** A signed-up, KYC-verified requester with credits. */
export async function requester(baseUrl: string): Promise<ApiClient> {
	const c = new ApiClient(baseUrl);
	await c.signUp();
	await c.buy('starter');
	await setKyc(c, 'verified');
	return c;
}

export async function submitJob(c: ApiClient, params: Record<string, unknown> = SMALL_JOB) {
	const r = await c.json('POST', '/api/jobs', { json: { params } });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	return r.body.job as { id: string; cost: number };
}

export async function jobOf(c: ApiClient, id: string) {
	const r = await c.json('GET', `/api/jobs/${id}`);
	expect(r.status).toBe(200);
	return r.body.job as { id: string; status: string; cost: number; imageUrl: string | null; attempts: number; progress: { step: number } | null };
}

/** Polls until the job is in one of `statuses` (the broker's own timing decides how long). */
export async function waitForJob(c: ApiClient, id: string, statuses: string[], timeout = 90_000) {
	await expect.poll(async () => (await jobOf(c, id)).status, { timeout, intervals: [250, 500, 1000] }).toMatch(new RegExp(`^(${statuses.join('|')})$`));
	return jobOf(c, id);
}

export async function balance(c: ApiClient) {
	const r = await c.json('GET', '/api/me');
	return r.body.balance as { available: number; held: number };
}

/** Signs a volunteer up in the page and opens /island with the model loaded on `backend`. */
export async function openIsland(page: Page, backend: 'wasm' | 'webgpu' = 'wasm') {
	await signUp(page, `volunteer-${randomUUID()}@example.com`);
	// Island owners are verified like requesters (registration answers 403 otherwise).
	const kyc = await page.request.post('/api/kyc/start', { data: { legalName: 'Test Person', dateOfBirth: '1990-01-01', country: 'FR' } });
	expect(kyc.status()).toBe(200);
	await page.goto('/island');
	await expect(page.getByTestId('webgpu-summary')).not.toHaveText('Checking for WebGPU…');
	await page.getByLabel(backend === 'webgpu' ? 'WebGPU (your GPU)' : 'WASM (your CPU)').check();
}

/** The admin's view of the ledger invariants (all entries sum to 0, one release per job…). */
export async function ledgerCheck(baseUrl: string): Promise<{ ok: boolean; problems: string[] }> {
	const admin = new ApiClient(baseUrl);
	const password = 'island admin password';
	// One admin per server: the first call signs up, later ones log in.
	const up = await admin.json('POST', '/api/auth/signup', { json: { email: ADMIN_EMAIL, password } });
	if (up.status !== 201) expect((await admin.json('POST', '/api/auth/login', { json: { email: ADMIN_EMAIL, password } })).status).toBe(200);
	else await claimAdmin(admin);
	const r = await admin.json('GET', '/api/admin/ledger/check');
	expect(r.status).toBe(200);
	return r.body;
}
