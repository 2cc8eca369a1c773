// What the server does when Node's HTTP parser gives up on a connection (`clientError`): a
// malformed request, headers too large, a request that took too long to arrive.
//
// Node's default writes its 400 and destroys the socket at once, even while an earlier,
// well-formed request on that connection is still being answered. Bytes that follow a request
// which declared no body are such a malformed next request: node:http sends a DELETE's body
// that way (neither Content-Length nor chunked), so `DELETE /api/jobs/:id` with a body
// cancelled and refunded the job while its client read Node's 400. Here the requests that
// parsed are answered first, in order, and the error answer follows them.
//
// Each such error, socket errors (resets) included, is logged on one line with its code, what
// the connection was doing and what was done, at most 10 lines a minute and then a count by
// code: benchmarks see bursts of ECONNRESET, and this is where the server sees its side of them.
import http from 'node:http';

/** @typedef {import('node:net').Socket} Socket */

/**
 * @param {http.Server} server
 * @param {(socket: Socket) => boolean} refused sockets already answered at connect (429)
 */
export function answerClientErrors(server, refused) {
	/** @type {WeakMap<Socket, Set<http.ServerResponse>>} requests being answered, per connection */
	const inFlight = new WeakMap();
	/** @type {WeakMap<Socket, () => void>} error answers waiting for those requests */
	const waiting = new WeakMap();
	/** @type {WeakSet<Socket>} the parser reports every later chunk of a broken connection again */
	const handled = new WeakSet();
	const log = rateLimitedLog({ max: 10, windowMs: 60_000, write: (line) => console.warn(line) });

	server.on('request', (req, res) => {
		const socket = req.socket;
		let open = inFlight.get(socket);
		if (!open) inFlight.set(socket, (open = new Set()));
		open.add(res);
		res.once('close', () => {
			open.delete(res);
			if (open.size === 0) waiting.get(socket)?.();
		});
	});

	server.on('clientError', (/** @type {NodeJS.ErrnoException} */ err, /** @type {Socket} */ socket) => {
		if (handled.has(socket)) return;
		handled.add(socket);
		const code = err.code ?? '';
		const status = statusFor(code);
		const open = [...(inFlight.get(socket) ?? [])];
		const report = (/** @type {string} */ action) => {
			// Paths only: a query may carry a share link's signature.
			const requests = open.map((res) => `${res.req.method} ${(res.req.url ?? '').split('?')[0].slice(0, 100)}${res.headersSent ? ' (answering)' : ''}`);
			log(code || 'unknown', `[http] ${code || err.message} from ${socket.remoteAddress ?? 'a closed socket'}: ${requests.length ? `in flight ${requests.join(', ')}; ` : ''}${action}`);
		};
		if (refused(socket)) return void (report('refused at connect, closed'), socket.destroy());
		if (!status || !socket.writable) return void (report('connection closed'), socket.destroy());
		// A parse error after complete requests is about the next one: answer those first. One
		// inside a request still arriving (a broken chunked body), or its timeout, ends that
		// request: answered now, as Node does, so nothing waits for a body that won't come.
		if (open.length && open.every((res) => res.req.complete) && code !== 'ERR_HTTP_REQUEST_TIMEOUT') {
			report(`${status} after the answers in flight`);
			waiting.set(socket, () => {
				waiting.delete(socket);
				if (!socket.writable) return;
				// end(), not destroy(): closing with the client's stray bytes unread would send a
				// reset, which can overtake the answers still in flight to the client.
				socket.end(errorResponse(status));
				setTimeout(() => socket.destroy(), 5_000).unref();
			});
			return;
		}
		// An answer already begun can't be interrupted by another one.
		const answer = !open.some((res) => res.headersSent);
		report(answer ? `answered ${status}, connection closed` : 'connection closed mid-answer');
		if (answer) socket.write(errorResponse(status));
		socket.destroy(err);
	});
}

/** Node's own answers; 0: a socket error (a reset), where nothing can be answered. */
function statusFor(/** @type {string} */ code) {
	if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
	if (code === 'HPE_HEADER_OVERFLOW') return 431;
	if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
	return code.startsWith('HPE_') ? 400 : 0;
}

function errorResponse(/** @type {number} */ status) {
	return `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`;
}

/**
 * A log that writes at most `max` lines per `windowMs`; past that it counts lines by code and
 * writes one summary when the window ends, so a burst shows without flooding the log.
 * @param {{ max: number, windowMs: number, write: (line: string) => void }} options
 */
export function rateLimitedLog({ max, windowMs, write }) {
	let windowEnds = 0;
	let written = 0;
	/** @type {Map<string, number>} */
	let skipped = new Map();
	return (/** @type {string} */ code, /** @type {string} */ line) => {
		const now = Date.now();
		if (now >= windowEnds) {
			windowEnds = now + windowMs;
			written = 0;
		}
		if (written < max) {
			written++;
			return write(line);
		}
		if (skipped.size === 0) {
			setTimeout(() => {
				const total = [...skipped.values()].reduce((a, b) => a + b, 0);
				write(`[http] ${total} more client errors in ${windowMs / 1000} s, not logged one by one: ${[...skipped].map(([c, n]) => `${c} ×${n}`).join(', ')}`);
				skipped = new Map();
			}, windowEnds - now).unref();
		}
		skipped.set(code, (skipped.get(code) ?? 0) + 1);
	};
}
