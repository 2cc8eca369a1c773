import type { Handle, HandleServerError, ServerInit } from '@sveltejs/kit';
import { building } from '$app/environment';
import { closeDatabase, db, dbHandle, initDatabase } from '$lib/server/db';
import { SESSION_COOKIE, resolveSession } from '$lib/server/auth/sessions';
import { API_KEY_PREFIX, resolveApiKey } from '$lib/server/auth/api-keys';
import { applyRateLimits } from '$lib/server/rate-limit';
import { ensureBuiltinIsland } from '$lib/server/builtin-island';
import { drainBroker, startBroker, stopBroker } from '$lib/server/jobs';
import { serverModels } from '$lib/server/models';

export const init: ServerInit = async () => {
	if (building) return;
	await initDatabase();
	// scripts/start.js made this token for its built-in Island child (BUILTIN_ISLANDS=0: none).
	if (process.env.BUILTIN_ISLAND_TOKEN) await ensureBuiltinIsland(db(), process.env.BUILTIN_ISLAND_TOKEN);
	// The demo model, plus SD-Turbo when SDTURBO_BASE_URL is configured.
	await startBroker(dbHandle(), await serverModels());
	// SIGTERM (scripts/server.js): first no more claims, and sleeping long-polls and SSE streams
	// end, so connections can close; in-flight requests still finish against the database.
	process.once('archipelago:drain', () => drainBroker());
	// Once the last connection closed: the broker, then the database.
	process.once('sveltekit:shutdown', () => void stopBroker().finally(closeDatabase));
};

export const handle: Handle = async ({ event, resolve }) => {
	event.locals.user = null;
	event.locals.apiKeyId = null;
	event.locals.sessionId = null;

	const bearer = event.request.headers.get('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
	if (bearer?.startsWith(API_KEY_PREFIX)) {
		const resolved = await resolveApiKey(db(), bearer);
		if (resolved) {
			event.locals.user = resolved.user;
			event.locals.apiKeyId = resolved.apiKeyId;
		}
	} else {
		const token = event.cookies.get(SESSION_COOKIE);
		if (token) {
			const session = await resolveSession(db(), token);
			if (session) {
				event.locals.user = session.user;
				event.locals.sessionId = session.sessionId;
			} else {
				event.cookies.delete(SESSION_COOKIE, { path: '/' });
			}
		}
	}
	// 100 requests/min per user or key on /api/jobs*, login attempts per account and address.
	const limited = await applyRateLimits(event);
	if (limited) return limited;
	return resolve(event);
};

export const handleError: HandleServerError = ({ error, event, status }) => {
	if (status >= 500) console.error(`${event.request.method} ${event.url.pathname}:`, error);
	return { message: status === 404 ? 'Not found' : 'Something went wrong on our side.', code: status === 404 ? 'not_found' : 'internal' };
};
