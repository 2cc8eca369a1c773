// Hostile review, resources side (issue 13): event streams and long-polls without a cap,
// slow clients holding sockets, oversized chunked bodies answering 500, and JSON accepted
// under any content type that merely contains "json". Run against the production server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { BROKER_ENV, demoParams, requester, setKyc } from '../../harness/broker';
import { TestIsland } from '../../harness/test-island';
import { halfSentRequest, openStream, rawRequest } from '../../harness/raw-http';

describe.each(drivers)('abuse of resources on %s', (driver) => {
	let server: TestServer;
	beforeAll(async () => {
		server = await startServer(driver, {
			env: { ...BROKER_ENV, MAX_STREAMS_PER_USER: '5', MAX_CONNECTIONS_PER_ADDRESS: '40', HEADERS_TIMEOUT_MS: '3000' }
		});
	});
	afterAll(() => server.dispose());

	it('caps the event streams one user holds open, whichever session or key opens them', async () => {
		const alice = await requester(server.url);
		const job = (await alice.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job.id;
		const key = (await alice.json('POST', '/api/keys', { json: { name: 'watcher' } })).body.secret;
		const url = `${server.url}/api/jobs/${job}/events`;
		const bySession = { headers: { cookie: alice.cookie } };
		const byKey = { headers: { authorization: `Bearer ${key}` } };
		const open = [];
		for (let i = 0; i < 5; i++) open.push(await openStream(url, i % 2 ? byKey : bySession));
		expect(open.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
		for (const init of [bySession, byKey]) {
			const refused = await rawRequest(url, init);
			expect(refused.status).toBe(429);
			expect(JSON.parse(refused.body).error.code).toBe('too_many_open');
		}
		// Closing one gives its slot back.
		open[0].close();
		await open[0].closed;
		await expect.poll(async () => (await rawRequest(`${server.url}/api/jobs/${job}`, bySession)).status).toBe(200);
		await expect.poll(async () => {
			const again = await openStream(url, bySession);
			open.push(again);
			return again.status;
		}).toBe(200);
		open.forEach((s) => s.close());
		expect((await alice.json('DELETE', `/api/jobs/${job}`)).status).toBe(200);
	});

	it('caps the long-polls one Island holds open', async () => {
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		// An Island for a model nobody asks for: its claims sleep.
		const island = await TestIsland.register(owner, { models: ['nothing-queued'] });
		const abort = new AbortController();
		const sleeping = [island.claim({ signal: abort.signal }).catch(() => null), island.claim({ signal: abort.signal }).catch(() => null)];
		await new Promise((r) => setTimeout(r, 300));
		const third = await island.call('POST', '/api/islands/claim', {});
		expect(third.status).toBe(429);
		abort.abort();
		await Promise.all(sleeping);
	});

	it('answers 413, not 500, to a 12 MB chunked body on every JSON route, and logs no stack', async () => {
		const client = await requester(server.url);
		const chunks = function* () {
			for (let i = 0; i < 12; i++) yield Buffer.alloc(1024 * 1024, 0x20);
		};
		for (const path of ['/api/auth/login', '/api/auth/signup', '/api/jobs', '/api/keys', '/api/kyc/start']) {
			const r = await rawRequest(server.url + path, {
				method: 'POST',
				headers: { 'content-type': 'application/json', cookie: client.cookie, origin: server.url },
				body: chunks()
			});
			expect(r.status, path).toBe(413);
			expect(JSON.parse(r.body).error.code).toBe('payload_too_large');
		}
		// api() and handleError log `<METHOD> <path> (failed):` and a stack for every 500.
		expect(server.output(), server.output()).not.toMatch(/(POST|GET|DELETE) \/api\/\S+( failed)?:/);
	}, 180_000); // 60 MB through loopback: slow when other test files share the two cores

	it('answers 404 or 422, not 500, to a NUL or a lone surrogate in an id or a text', async () => {
		const client = await requester(server.url);
		for (const path of ['/api/jobs/%00', '/api/jobs/%00/events', '/api/images/%00.png']) {
			expect((await client.request('GET', path)).status, path).toBe(404);
		}
		// A surrogate's bytes are not UTF-8: SvelteKit refuses the URL itself.
		expect((await client.request('GET', '/api/jobs/%ED%A0%80')).status).toBe(400);
		expect((await client.request('DELETE', '/api/islands/%00')).status).toBe(404);
		for (const prompt of ['a red\u0000 circle', 'a red \ud800 circle']) {
			// JSON.stringify writes both as \u escapes: valid JSON that parses back to them.
			const r = await client.json('POST', '/api/jobs', { json: { params: { ...demoParams(), prompt } } });
			expect(r.status, prompt).toBe(422);
		}
		expect((await client.json('POST', '/api/keys', { json: { name: 'nul\u0000key' } })).status).toBe(422);
	});

	it('takes JSON only as application/json or a +json type', async () => {
		const client = await requester(server.url);
		const send = (type: string) => client.json('POST', '/api/jobs', { body: JSON.stringify({ params: demoParams() }), headers: { 'content-type': type } });
		expect((await send('application/x-notjson')).status).toBe(415);
		expect((await send('text/json-ish')).status).toBe(415);
		expect((await send('application/json; charset=utf-8')).status).toBe(201);
		expect((await send('application/vnd.archipelago+json')).status).toBe(201);
	});

	it('refuses connections past 40 from one address with 429, times out half-sent requests, and keeps answering others', async () => {
		const port = Number(new URL(server.url).port);
		const slow = Array.from({ length: 50 }, () => halfSentRequest(port, '127.0.0.5'));
		await Promise.all(slow.map((s) => s.connected));
		// Another address is served at once while they hang.
		expect((await rawRequest(`${server.url}/api/health`, { localAddress: '127.0.0.6' })).status).toBe(200);
		// Every one of them is closed by the server: the excess at once with a 429, the rest
		// when the 3 s header timeout runs out (Node answers 408 there). On a loaded machine an
		// early socket may time out before the last ones connect, and free its place.
		const answers = await Promise.all(slow.map((s) => s.closed));
		const refused = answers.filter((a) => a.startsWith('HTTP/1.1 429')).length;
		expect(refused).toBeGreaterThanOrEqual(1);
		expect(refused).toBeLessThanOrEqual(10);
		expect(answers.filter((a) => a.startsWith('HTTP/1.1 408')).length).toBe(50 - refused);
		// Once the server has let go of them, the address is welcome again.
		await expect.poll(async () => (await rawRequest(`${server.url}/api/health`, { localAddress: '127.0.0.5' })).status).toBe(200);
	});
});
