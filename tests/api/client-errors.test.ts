import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { startServer, type TestServer } from '../../harness/server';
import { balance, BROKER_ENV, demoParams, requester } from '../../harness/broker';
import { drivers } from '../helpers/db';

/**
 * Writes `data` on a fresh connection and collects everything the server writes until it
 * closes the connection: the status of each answer, in order, and the raw text.
 */
function exchange(port: number, data: string): Promise<{ statuses: number[]; text: string }> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(port, '127.0.0.1');
		let text = '';
		socket.on('data', (d) => (text += d));
		socket.on('error', reject);
		socket.on('close', () => resolve({ statuses: [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1])), text }));
		socket.setTimeout(10_000, () => socket.destroy(new Error(`no close after 10 s; got: ${text.slice(0, 300)}`)));
		socket.write(data);
	});
}

// What the HTTP wrapper (server/client-errors.js) does with what Node's parser refuses.
// A route that reads no body (cancel: DELETE /api/jobs/:id) still answers a request that
// carries one. A body sent with Content-Length or chunked is the request's, left unread;
// bytes sent with no framing at all (Node's http client does that for a DELETE given a body)
// are, to HTTP, the start of a next, malformed request on the same connection.
describe.each(drivers)('a request body the route does not read, on %s', (driver) => {
	let server: TestServer;
	let port: number;
	let alice: ApiClient;
	beforeAll(async () => {
		server = await startServer(driver, { env: BROKER_ENV });
		port = Number(new URL(server.url).port);
		alice = await requester(server.url, 'creator');
	});
	afterAll(() => server?.dispose());

	const queued = async () => (await alice.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job as { id: string; cost: number };
	const head = (id: string, extra: string) => `DELETE /api/jobs/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${alice.cookie}\r\nContent-Type: application/json\r\n${extra}`;

	it('cancels with 200 when the body is framed (Content-Length or chunked), and the connection serves the next request', async () => {
		const byLength = await queued();
		const next = 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
		const a = await exchange(port, head(byLength.id, 'Content-Length: 7\r\n\r\n{"a":1}') + next);
		expect(a.statuses).toEqual([200, 200]);
		expect(a.text).toContain('"status":"cancelled"');
		const chunked = await queued();
		const b = await exchange(port, head(chunked.id, 'Transfer-Encoding: chunked\r\n\r\n7\r\n{"a":1}\r\n0\r\n\r\n') + next);
		expect(b.statuses).toEqual([200, 200]);
		expect((await alice.json('GET', `/api/jobs/${chunked.id}`)).body.job.status).toBe('cancelled');
	});

	it('answers the cancel first when unframed bytes follow it, then 400 for those bytes, and refunds once', async () => {
		const before = await balance(alice);
		const job = await queued();
		// Before the fix, Node's default clientError answer (400, then the socket destroyed)
		// went out while the cancel was still running: the job was refunded, the client read 400.
		const r = await exchange(port, head(job.id, '\r\n') + '{"lease":"GCQRiF","step":1803499625,"reason":"i7f"}');
		expect(r.statuses).toEqual([200, 400]);
		expect(r.text).toContain('"status":"cancelled"');
		expect(await balance(alice)).toEqual(before);
	});

	it('answers 200 to a DELETE sent by node:http with a body (the fuzzer\'s client)', async () => {
		const job = await queued();
		const status = await new Promise<number>((resolve, reject) => {
			const req = http.request(`${server.url}/api/jobs/${job.id}`, { method: 'DELETE', headers: { cookie: alice.cookie, origin: server.url, 'content-type': 'application/json', connection: 'close' }, agent: false }, (res) => {
				res.resume();
				resolve(res.statusCode ?? 0);
			});
			req.on('error', reject);
			req.end(new TextEncoder().encode('{"a":1}'));
		});
		expect(status).toBe(200);
	});

	it('still answers a malformed request on its own with 400 and closes', async () => {
		expect((await exchange(port, 'NOT HTTP\r\n\r\n')).statuses).toEqual([400]);
	});

	// The server's side of a reset or a refused request, for whoever reads its log.
	it('logs each client error on one line with its code, what was in flight and what was done', async () => {
		const logged = async (pattern: RegExp) => {
			for (let i = 0; i < 100 && !pattern.test(server.output()); i++) await new Promise((r) => setTimeout(r, 50));
			return server.output();
		};
		const job = await queued();
		await exchange(port, head(job.id, '\r\n') + 'stray');
		expect(await logged(/after the answers/)).toMatch(new RegExp(`\\[http\\] HPE_\\w+ from 127\\.0\\.0\\.1: in flight DELETE /api/jobs/${job.id}; 400 after the answers in flight`));
		await exchange(port, 'NOT HTTP\r\n\r\n');
		expect(await logged(/answered 400/)).toMatch(/\[http\] HPE_\w+ from 127\.0\.0\.1: answered 400, connection closed/);
		// A client that resets its connection halfway through sending a body.
		const socket = net.connect(port, '127.0.0.1');
		await new Promise((r) => socket.once('connect', r));
		socket.write(`POST /api/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${alice.cookie}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":`);
		await new Promise((r) => setTimeout(r, 300)); // for the server to have read the head
		socket.resetAndDestroy();
		expect(await logged(/ECONNRESET/)).toMatch(/\[http\] ECONNRESET from [^:]+: in flight POST \/api\/keys; connection closed/);
	});
});
