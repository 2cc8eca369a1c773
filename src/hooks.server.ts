import type { Handle, HandleServerError, ServerInit } from '@sveltejs/kit';
import { building } from '$app/environment';
import { closeDatabase, db, dbHandle, initDatabase } from '$lib/server/db';
import { SESSION_COOKIE, resolveSession } from '$lib/server/auth/sessions';
import { API_KEY_PREFIX, resolveApiKey } from '$lib/server/auth/api-keys';
import { applyRateLimits } from '$lib/server/rate-limit';
import { cachedIdentity } from '$lib/server/auth/identity-cache';
import { ensureBuiltinIsland } from '$lib/server/builtin-island';
import { drainBroker, startBroker, stopBroker } from '$lib/server/jobs';
import { serverModels } from '$lib/server/models';
import { prepareAdminClaim } from '$lib/server/auth/admin';
import { unsafeKycReason } from '$lib/server/kyc';

export const init: ServerInit = async () => {
	if (building) return;
	// Thrown here, the server exits at start instead of serving an unsafe configuration.
	const unsafe = unsafeKycReason();
	if (unsafe) throw new Error(`Refusing to start: ${unsafe}`);
	if (process.env.ADMIN_EMAILS) console.warn('[admin] ADMIN_EMAILS is ignored: an email proves nothing. Claim admin with the link below or ADMIN_CLAIM_TOKEN.');
	await initDatabase();
	const claim = await prepareAdminClaim(db());
	if (claim) {
		// The console is the operator's: whoever reads it may make themselves admin, once.
		console.log(`[admin] No admin yet. Sign in, then open /admin/claim and enter: ${claim}`);
	}
	// server/start.js made this token for its built-in Island child (BUILTIN_ISLANDS=0: none).
	if (process.env.BUILTIN_ISLAND_TOKEN) await ensureBuiltinIsland(db(), process.env.BUILTIN_ISLAND_TOKEN);
	// The demo model, plus SD-Turbo when SDTURBO_BASE_URL is configured.
	await startBroker(dbHandle(), await serverModels());
	// SIGTERM (server/index.js): first no more claims, and sleeping long-polls and SSE streams
	// end, so connections can close; in-flight requests still finish against the database.
	process.once('archipelago:drain', () => drainBroker());
	// Once the last connection closed: the broker, then the database.
	process.once('sveltekit:shutdown', () => void stopBroker().finally(closeDatabase));
};

export const handle: Handle = async ({ event, resolve }) => {
	event.locals.user = null;
	event.locals.apiKeyId = null;
	event.locals.apiKeyScopes = null;
	event.locals.sessionId = null;

	const bearer = event.request.headers.get('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
	// Keys open the API only: pages and their form actions are for people with a session.
	if (bearer?.startsWith(API_KEY_PREFIX) && event.url.pathname.startsWith('/api/')) {
		const resolved = await cachedIdentity(`key:${bearer}`, () => resolveApiKey(db(), bearer));
		if (resolved) {
			event.locals.user = resolved.user;
			event.locals.apiKeyId = resolved.apiKeyId;
			event.locals.apiKeyScopes = resolved.scopes;
		}
	} else {
		const token = event.cookies.get(SESSION_COOKIE);
		if (token) {
			const session = await cachedIdentity(`session:${token}`, () => resolveSession(db(), token));
			if (session) {
				event.locals.user = session.user;
				event.locals.sessionId = session.sessionId;
			} else {
				event.cookies.delete(SESSION_COOKIE, { path: '/' });
			}
		}
	}
	// /api/jobs*: 100 requests/min per user (all their keys together) and 1,000 per address.
	const limited = await applyRateLimits(event);
	if (limited) return limited;
	return resolve(event);
};

export const handleError: HandleServerError = ({ error, event, status }) => {
	if (status >= 500) console.error(`${event.request.method} ${event.url.pathname}:`, error);
	return { message: status === 404 ? 'Not found' : 'Something went wrong on our side.', code: status === 404 ? 'not_found' : 'internal' };
};
