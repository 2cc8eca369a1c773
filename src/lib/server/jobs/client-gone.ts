import type { RequestEvent } from '@sveltejs/kit';
import type { IncomingMessage } from 'node:http';

/**
 * Aborts when the client of a long-poll goes away. adapter-node's `request.signal` only fires
 * while the body is still arriving, so a claim whose Island disconnected would otherwise
 * sleep on and take the next job for nobody (it would sit leased until its lease expired).
 * Call `done()` when the request is answered: keep-alive sockets outlive requests.
 */
export function clientGone(event: RequestEvent): { signal: AbortSignal; done(): void } {
	const controller = new AbortController();
	const abort = () => controller.abort();
	event.request.signal.addEventListener('abort', abort, { once: true });
	const socket = (event.platform as { req?: IncomingMessage } | undefined)?.req?.socket;
	if (socket?.destroyed) abort();
	else socket?.once('close', abort);
	return {
		signal: controller.signal,
		done() {
			socket?.off('close', abort);
			event.request.signal.removeEventListener('abort', abort);
		}
	};
}
