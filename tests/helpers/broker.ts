// Shared set-up for the broker's HTTP tests.
import { readFileSync } from 'node:fs';
import { ApiClient } from './client';

export const LEDGER_ADMIN = 'ledger-admin@example.com';

/** Test hooks on (POST /api/test/kyc), rate limits out of the way, an admin for the ledger check. */
export const BROKER_ENV = {
	ARCHIPELAGO_TEST_HOOKS: '1',
	RATE_LIMIT_JOBS_PER_MINUTE: '1000000',
	ADMIN_EMAILS: LEDGER_ADMIN
};

const manifest = JSON.parse(readFileSync(new URL('../../static/models/demo/manifest.json', import.meta.url), 'utf8')) as {
	sizes: [number, number][];
	steps: { standard: [number, number]; high: [number, number]; default: number };
};
export const demoManifest = manifest;

/** Valid params for the demo model, read from its manifest (the numbers change when it is retrained). */
export function demoParams(overrides: Record<string, unknown> = {}) {
	const [width, height] = manifest.sizes.reduce((a, b) => (b[0] * b[1] < a[0] * a[1] ? b : a));
	return { prompt: 'a red circle on a blue background', model: 'demo', width, height, steps: manifest.steps.standard[0], ...overrides };
}

export async function setKyc(client: ApiClient, status: 'unverified' | 'pending' | 'verified' | 'rejected') {
	const r = await client.json('POST', '/api/test/kyc', { json: { status } });
	if (r.status !== 200) throw new Error(`test kyc hook failed: ${r.status} ${JSON.stringify(r.body)}`);
}

/** A signed-up, verified requester, with a pack bought unless `pack` is null. */
export async function requester(baseUrl: string, pack: 'starter' | 'creator' | 'studio' | null = 'starter') {
	const client = new ApiClient(baseUrl);
	await client.signUp();
	await setKyc(client, 'verified');
	if (pack) await client.buy(pack);
	return client;
}

export async function balance(client: ApiClient): Promise<{ available: number; held: number }> {
	return (await client.json('GET', '/api/me')).body.balance;
}

export async function ledgerAdmin(baseUrl: string) {
	const admin = new ApiClient(baseUrl);
	await admin.signUp(LEDGER_ADMIN);
	return admin;
}
