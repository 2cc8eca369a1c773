import type { RequestEvent } from '@sveltejs/kit';
import { db } from '../db';
import { ApiError, errorResponse, readBody } from '../http';
import { hit, rateLimitHeaders, type Hit, type Policy } from './counter';

export { hit, rateLimitHeaders, sweep, type Hit, type Policy } from './counter';

function envNumber(name: string, fallback: number, env: NodeJS.ProcessEnv) {
	const n = Number(env[name]);
	return env[name] !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}

export function ratePolicies(env: NodeJS.ProcessEnv = process.env) {
	return {
		jobs: { limit: envNumber('RATE_LIMIT_JOBS_PER_MINUTE', 100, env), windowSeconds: 60 },
		// Guessing passwords: few tries per account, more per address (a household or office shares one).
		loginAccount: { limit: envNumber('LOGIN_LIMIT_PER_ACCOUNT', 10, env), windowSeconds: 15 * 60 },
		loginIp: { limit: envNumber('LOGIN_LIMIT_PER_IP', 50, env), windowSeconds: 15 * 60 }
	} satisfies Record<string, Policy>;
}

function tooMany(h: Hit, what: string): Response {
	return errorResponse(
		new ApiError(429, 'rate_limited', `Too many ${what}. Try again in ${h.resetSeconds} seconds.`, undefined, rateLimitHeaders(h))
	);
}

/** The email a login attempt names, read from a copy of the body (the route reads the original). */
async function loginEmail(request: Request): Promise<string | null> {
	try {
		const bytes = await readBody(request.clone(), 8 * 1024);
		const body = JSON.parse(new TextDecoder().decode(bytes)) as { email?: unknown };
		return typeof body.email === 'string' ? body.email.trim().toLowerCase() : null;
	} catch {
		return null; // the route itself answers malformed or oversized bodies
	}
}

/**
 * Called from the `handle` hook after authentication. Returns a 429 response to send instead
 * of the route, or null to go on (with RateLimit-* headers set on the route's response).
 */
export async function applyRateLimits(event: RequestEvent): Promise<Response | null> {
	const path = event.url.pathname;
	const policies = ratePolicies();

	if (path === '/api/jobs' || path.startsWith('/api/jobs/')) {
		const who = event.locals.apiKeyId
			? `key:${event.locals.apiKeyId}`
			: event.locals.user
				? `user:${event.locals.user.id}`
				: `ip:${event.getClientAddress()}`;
		const h = await hit(db(), `jobs:${who}`, policies.jobs);
		if (!h.allowed) return tooMany(h, 'requests');
		event.setHeaders(rateLimitHeaders(h));
		return null;
	}

	if (path === '/api/auth/login' && event.request.method === 'POST') {
		const byIp = await hit(db(), `login:ip:${event.getClientAddress()}`, policies.loginIp);
		if (!byIp.allowed) return tooMany(byIp, 'login attempts from your network');
		const email = await loginEmail(event.request);
		if (email) {
			const byAccount = await hit(db(), `login:account:${email}`, policies.loginAccount);
			if (!byAccount.allowed) return tooMany(byAccount, 'login attempts for this account');
		}
	}
	return null;
}
