import type { RequestEvent } from '@sveltejs/kit';
import type { IncomingMessage } from 'node:http';

/**
 * Aborts when the client of a long-poll goes away. adapter-node's `request.signal` only fires
 * while the body is still arriving, so a claim whose Island disconnected would otherwise
 * sleep on and take the next job for nobody (it would sit leased until its lease expired).
 */
export function clientGone(event: RequestEvent): AbortSignal {
	const controller = new AbortController();
	const abort = () => controller.abort();
	event.request.signal.addEventListener('abort', abort, { once: true });
	const socket = (event.platform as { req?: IncomingMessage } | undefined)?.req?.socket;
	if (socket) {
		if (socket.destroyed) abort();
		else socket.once('close', abort);
		controller.signal.addEventListener('abort', () => socket.off('close', abort), { once: true });
	}
	return controller.signal;
}
