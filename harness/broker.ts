// Shared set-up for the broker's HTTP tests.
import { readFileSync } from 'node:fs';
import { ApiClient } from './client';

/** The operator's standing admin claim token in test servers (ADMIN_CLAIM_TOKEN). */
export const ADMIN_CLAIM_TOKEN = 'test-admin-claim-token-0123456789';

/**
 * Island trust's probation and spot checks off: tests of the protocol, the ledger and the
 * pages run their Islands as trusted ones, and tests/api/trust*.test.ts turn trust on.
 */
export const TRUST_OFF = {
	TRUST_PROBATION_CANARIES: '0',
	TRUST_SPOT_CHECK_RATE: '0',
	TRUST_NEW_ISLAND_SPOT_CHECK_RATE: '0'
};

/** Rate limits and trust out of the way, an admin claim token for the ledger check. */
export const BROKER_ENV = {
	RATE_LIMIT_JOBS_PER_MINUTE: '1000000',
	ADMIN_CLAIM_TOKEN,
	...TRUST_OFF
};

const manifest = JSON.parse(readFileSync(new URL('../static/models/demo/manifest.json', import.meta.url), 'utf8')) as {
	sizes: [number, number][];
	steps: { standard: [number, number]; high: [number, number]; default: number };
};
export const demoManifest = manifest;

/** Valid params for the demo model, read from its manifest (the numbers change when it is retrained). */
export function demoParams(overrides: Record<string, unknown> = {}) {
	const [width, height] = manifest.sizes.reduce((a, b) => (b[0] * b[1] < a[0] * a[1] ? b : a));
	return { prompt: 'a red circle on a blue background', model: 'demo', width, height, steps: manifest.steps.standard[0], ...overrides };
}

const objects = JSON.parse(readFileSync(new URL('../static/models/objects/manifest.json', import.meta.url), 'utf8')) as typeof manifest & { name: string; description: string };
export const objectsManifest = objects;

/** Valid params for the objects model, read from its manifest (a stand-in until the trained export lands). */
export function objectsParams(overrides: Record<string, unknown> = {}) {
	const [width, height] = objects.sizes.reduce((a, b) => (b[0] * b[1] < a[0] * a[1] ? b : a));
	return { prompt: 'a red apple on a blue background', model: 'objects', width, height, steps: objects.steps.standard[0], ...overrides };
}

/** The sandbox provider decides from the legal name: these reach each status the way a person does. */
const SANDBOX_NAMES = { verified: 'Test Person', pending: 'Pending Person', rejected: 'Reject Person' } as const;

/** Verifies (or gets pending or rejected) through the sandbox provider, as a person does: each change keeps its kyc_events row. */
export async function setKyc(client: ApiClient, status: 'pending' | 'verified' | 'rejected') {
	const body = { legalName: SANDBOX_NAMES[status], dateOfBirth: '1990-01-01', country: 'FR' };
	const r = await client.json('POST', '/api/kyc/start', { json: body });
	if (r.status !== 200 || r.body.kyc.status !== status) throw new Error(`sandbox verification failed: ${r.status} ${JSON.stringify(r.body)}`);
}

/** An admin's revocation from /admin (the form action), as an admin does it. */
export async function revokeKyc(admin: ApiClient, userId: string) {
	const r = await admin.request('POST', '/admin?/revoke', {
		body: new URLSearchParams({ userId, reason: 'test' }),
		headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-sveltekit-action': 'true' }
	});
	const text = await r.text();
	if (r.status !== 200 || !text.includes('"type":"success"')) throw new Error(`revoke failed: ${r.status} ${text}`);
}

/** An admin's decision on an Island from /admin (the form action): vouch for it, or reinstate it. */
export async function decideIsland(admin: ApiClient, islandId: string, decision: 'vouch' | 'reinstate') {
	const r = await admin.request('POST', '/admin?/island', {
		body: new URLSearchParams({ islandId, decision }),
		headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-sveltekit-action': 'true' }
	});
	const text = await r.text();
	if (r.status !== 200 || !text.includes('"type":"success"')) throw new Error(`${decision} failed: ${r.status} ${text}`);
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

/** Makes a signed-in client admin the way an operator does: with the claim token. */
export async function claimAdmin(client: ApiClient, token = ADMIN_CLAIM_TOKEN) {
	const r = await client.json('POST', '/api/admin/claim', { json: { token } });
	if (r.status !== 200) throw new Error(`admin claim failed: ${r.status} ${JSON.stringify(r.body)}`);
}

/** A new account made admin (the server must run with BROKER_ENV's ADMIN_CLAIM_TOKEN). */
export async function ledgerAdmin(baseUrl: string, email?: string) {
	const admin = new ApiClient(baseUrl);
	await admin.signUp(email);
	await claimAdmin(admin);
	return admin;
}
