import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { startServer, type TestServer } from '../../harness/server';

// Bad input is refused with a 4xx in the error shape `{ error: { code, message, issues? } }`
// (src/lib/schemas/errors.ts), never a 500.
describe('bad input', () => {
	let server: TestServer;
	let client: ApiClient;
	beforeAll(async () => {
		server = await startServer('pglite');
		client = new ApiClient(server.url);
		await client.signUp();
	});
	afterAll(() => server.dispose());

	const expectError = async (res: Response, status: number, code: string) => {
		expect(res.status).toBe(status);
		const body = await res.json();
		expect(body.error.code).toBe(code);
		expect(typeof body.error.message).toBe('string');
	};

	it('400 for malformed JSON', async () => {
		await expectError(await client.request('POST', '/api/auth/login', { body: '{"email":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
	});

	it('400 for invalid UTF-8', async () => {
		await expectError(
			await client.request('POST', '/api/auth/login', { body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), headers: { 'content-type': 'application/json' } }),
			400,
			'invalid_json'
		);
	});

	it('422 for wrong types, unknown fields, and values out of range, with the field named', async () => {
		const wrongType = await client.json('POST', '/api/auth/signup', { json: { email: 42, password: ['x'] } });
		expect(wrongType.status).toBe(422);
		expect(wrongType.body.error.issues.map((i: { path: string[] }) => i.path[0])).toEqual(expect.arrayContaining(['email', 'password']));
		const unknown = await client.json('POST', '/api/auth/signup', { json: { email: 'a@b.co', password: 'long enough', admin: true } });
		expect(unknown.status).toBe(422);
		const short = await client.json('POST', '/api/auth/signup', { json: { email: 'a@b.co', password: 'short' } });
		expect(short.body.error.message).toMatch(/password: Use at least 8 characters/);
		expect((await client.json('POST', '/api/keys', { json: null })).status).toBe(422);
	});

	it('413 for an oversized body, declared or streamed', async () => {
		const big = JSON.stringify({ name: 'x'.repeat(200_000) });
		await expectError(await client.request('POST', '/api/keys', { body: big, headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
		// Chunked, with no content-length to refuse it by.
		const chunks = new ReadableStream({
			start(controller) {
				for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(10_000)));
				controller.close();
			}
		});
		const streamed = await fetch(`${server.url}/api/keys`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', cookie: client.cookie, origin: server.url },
			body: chunks,
			duplex: 'half'
		} as RequestInit);
		await expectError(streamed, 413, 'payload_too_large');
		// The connection is still good for the next request.
		expect((await client.request('GET', '/api/me')).status).toBe(200);
	});

	it('415 for a body that is not JSON', async () => {
		await expectError(await client.request('POST', '/api/keys', { body: 'name=x', headers: { 'content-type': 'application/xml' } }), 415, 'unsupported_media_type');
	});

	it('401 without auth, and for a bogus bearer key', async () => {
		const anon = new ApiClient(server.url);
		await expectError(await anon.request('GET', '/api/me'), 401, 'unauthenticated');
		anon.bearer = 'ak_not-a-real-key';
		await expectError(await anon.request('GET', '/api/keys'), 401, 'unauthenticated');
	});

	it('404 for a malformed or unknown id', async () => {
		await expectError(await client.request('DELETE', '/api/keys/not-a-uuid'), 404, 'not_found');
		await expectError(await client.request('DELETE', '/api/keys/00000000-0000-4000-8000-000000000000'), 404, 'not_found');
	});

	it('403 for a cross-site form post (SvelteKit CSRF check stays on)', async () => {
		const res = await fetch(`${server.url}/api/auth/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
			body: 'email=a@b.co&password=12345678'
		});
		expect(res.status).toBe(403);
	});
});
