// The production server: adapter-node's handler behind a small http server, because
// adapter-node serves static files and immutable assets before hooks.server.ts runs, and
// those responses (worker scripts, ORT's wasm, model files) need headers hooks can't add.
import http from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { answerClientErrors } from './client-errors.js';
import { setSecurityHeaders } from './security-headers.js';

// adapter-node assumes https unless told otherwise; this server speaks plain http, so unless a
// proxy's header or ORIGIN is configured, tell it the truth (cookies get Secure only on https).
const ownProtocolHeader = !process.env.ORIGIN && !process.env.PROTOCOL_HEADER;
if (ownProtocolHeader) process.env.PROTOCOL_HEADER = 'x-archipelago-proto';
// adapter-node's default 512 KB would refuse Islands' PNG results; each route enforces its
// own smaller limit (JSON 64 KB, results 8 MB) and answers 413 with a JSON body.
process.env.BODY_SIZE_LIMIT ??= '10M';
// BUILD_DIR (relative to the project root): serve a build made there instead of build/.
const buildDir = resolve(fileURLToPath(new URL('..', import.meta.url)), process.env.BUILD_DIR ?? 'build');
const { handler } = await import(pathToFileURL(`${buildDir}/handler.js`).href);

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '0.0.0.0';
const shutdownGraceMs = Number(process.env.SHUTDOWN_TIMEOUT ?? 10) * 1000;

function setHeaders(req, res) {
	// Cross-origin isolation everywhere (not just /island): a client-side navigation from a
	// non-isolated page would otherwise leave the Island without threads.
	res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
	res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
	res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
	res.setHeader('X-Content-Type-Options', 'nosniff');
	setSecurityHeaders(req, res);
	const path = (req.url ?? '/').split('?')[0];
	// Model files are content-addressed by the manifest's version; a change ships a new version.
	if (path.startsWith('/models/') && !path.endsWith('/manifest.json')) {
		res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
	}
}

const refusedSockets = new WeakSet();
const envMs = (name, fallback) => (Number(process.env[name]) >= 0 && process.env[name] ? Number(process.env[name]) : fallback);

let draining = false;
const server = http.createServer(
	{
		// A client that dribbles its headers or body can't hold a socket for minutes (Node's
		// defaults: 60 s and 300 s, checked only every 30 s). Long-polls and event streams are
		// unaffected: these bound receiving the request, not answering it.
		headersTimeout: envMs('HEADERS_TIMEOUT_MS', 10_000),
		requestTimeout: envMs('REQUEST_TIMEOUT_MS', 60_000),
		connectionsCheckingInterval: 1_000
	},
	(req, res) => {
		// Refused at connect (too many from its address): the 429 was written already.
		if (refusedSockets.has(req.socket)) return void res.destroy();
		if (ownProtocolHeader) req.headers['x-archipelago-proto'] = 'http';
		setHeaders(req, res);
		if (draining) res.setHeader('Connection', 'close');
		handler(req, res);
	}
);
server.keepAliveTimeout = 65_000;
limitConnectionsPerAddress(server, envMs('MAX_CONNECTIONS_PER_ADDRESS', 64));
answerClientErrors(server, (socket) => refusedSockets.has(socket));

/**
 * One address may hold at most `max` open connections; the next one is answered 429 and
 * closed before any request is read, so slow or idle sockets from one client can't use up
 * the process's file descriptors. Behind a reverse proxy every client shares the proxy's
 * address: there the proxy limits per client and this is set high (or 0, off).
 */
function limitConnectionsPerAddress(server, max) {
	if (!max) return;
	const open = new Map();
	server.on('connection', (socket) => {
		const address = socket.remoteAddress ?? '';
		const n = (open.get(address) ?? 0) + 1;
		if (n > max) {
			refusedSockets.add(socket);
			// Closed as soon as the answer is out: a half-closed socket would keep its descriptor
			// until the header timeout.
			socket.end('HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nRetry-After: 10\r\nContent-Type: text/plain\r\nContent-Length: 32\r\n\r\nToo many connections from you.\r\n', () => socket.destroy());
			return;
		}
		open.set(address, n);
		socket.once('close', () => {
			const left = (open.get(address) ?? 1) - 1;
			if (left <= 0) open.delete(address);
			else open.set(address, left);
		});
	});
}

server.listen(port, host, () => {
	console.log(`Archipelago listening on http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`);
	process.send?.({ type: 'listening', port: server.address().port });
});

function shutdown(reason) {
	if (draining) return;
	draining = true;
	// Two phases. First the app stops handing out claims and ends long-polls and SSE streams,
	// so every connection can close; requests already in flight (a result upload) still run
	// against the open database. Only once the last connection closed does the app close the
	// broker and the database (`sveltekit:shutdown`, as adapter-node's own server does).
	process.emit('archipelago:drain', reason);
	server.closeIdleConnections();
	// Keep-alive connections that go idle after this point are closed as they do.
	const sweep = setInterval(() => server.closeIdleConnections(), 100);
	server.close(() => {
		clearInterval(sweep);
		process.emit('sveltekit:shutdown', reason);
		// The database closes in a few hundred ms; this is only a backstop.
		setTimeout(() => process.exit(0), 5_000).unref();
	});
	setTimeout(() => server.closeAllConnections(), shutdownGraceMs).unref();
}
/** @type {((signalCount: number) => Promise<void> | void)[]} */
const stopSteps = [];
let signals = 0;

/**
 * Registers a step to run when SIGTERM/SIGINT arrives, before the server drains: `npm start`'s
 * built-in Island finishes (or, on a second signal, hands back) its job while the broker still
 * answers. The server drains once every step of the first signal has settled. This and the
 * `archipelago:drain` / `sveltekit:shutdown` process events (server → app, docs/operations.md)
 * are the whole shutdown protocol.
 * @param {(signalCount: number) => Promise<void> | void} step
 */
export function onStopSignal(step) {
	stopSteps.push(step);
}

/** @param {NodeJS.Signals} signal */
function onSignal(signal) {
	signals++;
	const running = stopSteps.map((step) => Promise.resolve().then(() => step(signals)));
	if (signals === 1) void Promise.allSettled(running).then(() => shutdown(signal));
}
process.on('SIGTERM', () => onSignal('SIGTERM'));
process.on('SIGINT', () => onSignal('SIGINT'));
