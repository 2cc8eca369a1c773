// HTTP below fetch, for what an attacker does and fetch can't: connect from another loopback
// address, hold a half-sent request open, stream a chunked body, keep an event stream open.
import http from 'node:http';
import net from 'node:net';

export interface RawResponse {
	status: number;
	headers: http.IncomingHttpHeaders;
	body: string;
}

export interface RawRequest {
	method?: string;
	headers?: Record<string, string>;
	/** Sent as is; an iterable of chunks goes out with Transfer-Encoding: chunked. */
	body?: string | Buffer | Iterable<Buffer>;
	/** The client address to connect from (anything in 127.0.0.0/8 reaches a loopback server). */
	localAddress?: string;
}

export function rawRequest(url: string, init: RawRequest = {}): Promise<RawResponse> {
	// Keep-alive, as browsers send: with `Connection: close` the server closes right after an
	// early answer (a 413) while the body is still arriving, and the reset that closing a
	// socket with unread data sends can overtake the answer, which is then lost.
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	return new Promise<RawResponse>((resolve, reject) => {
		const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, localAddress: init.localAddress, agent }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
			res.on('error', reject);
		});
		// Still, should the connection end with no answer, say so rather than wait for ever.
		req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
		req.on('close', () => setTimeout(() => reject(new Error(`${init.method ?? 'GET'} ${url}: the connection closed without an answer`)), 1000));
		const body = init.body;
		if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) return req.end(body);
		void (async () => {
			for (const chunk of body) {
				if (req.destroyed) return;
				if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
			}
			req.end();
		})();
	}).finally(() => agent.destroy());
}

/** An open response (an event stream): its status once the head arrived, and a way to close it. */
export function openStream(url: string, init: RawRequest = {}): Promise<{ status: number; close(): void; closed: Promise<void> }> {
	return new Promise((resolve, reject) => {
		const req = http.request(url, { method: 'GET', headers: init.headers, localAddress: init.localAddress, agent: false }, (res) => {
			const closed = new Promise<void>((r) => res.once('close', () => r()));
			res.resume();
			resolve({ status: res.statusCode ?? 0, close: () => req.destroy(), closed });
		});
		req.on('error', reject);
		req.end();
	});
}

/**
 * A connection that sends half a request head and then nothing. Resolves with what the
 * server wrote (its first bytes, if any) once the server closes the connection.
 */
export function halfSentRequest(port: number, localAddress = '127.0.0.1') {
	const socket = net.connect({ port, host: '127.0.0.1', localAddress });
	let received = '';
	socket.on('data', (d) => (received += d));
	socket.on('error', () => {});
	const connected = new Promise<void>((r) => socket.once('connect', () => r()));
	void connected.then(() => socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
	const closed = new Promise<string>((r) => socket.once('close', () => r(received)));
	return { socket, connected, closed };
}
