import type { RequestEvent } from '@sveltejs/kit';
import { db, dbHandle } from '../db';
import { MemoryCounter } from './memory-counter';
import { RefusalMemo } from './refusal-memo';
import { envPositiveInt } from '../env';
import { ApiError, clientAddress, errorResponse } from '../http';
import { hitAll, rateLimitHeaders, type Hit, type Policy } from './counter';

export { isRemembered, remember, type Hit, type Policy } from './counter';
export { concurrencyCaps, capLimits } from './caps';

/** PGlite's one process counts in memory; PostgreSQL's instances count together in the database. */
const memory = new MemoryCounter();
/** PostgreSQL: budgets already spent are refused without a round trip until their window ends. */
const refusals = new RefusalMemo();

const MINUTE = 60;
const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * Every request budget, in one place (docs/security.md lists them). Budgets
 * per user count all of the user's API keys and sessions together; budgets per address
 * stop one address from making accounts to multiply its per-user budgets.
 */
export function ratePolicies(env: NodeJS.ProcessEnv = process.env) {
	const per = (name: string, fallback: number, windowSeconds: number): Policy => ({ limit: envPositiveInt(name, fallback, env), windowSeconds });
	return {
		jobsUser: per('RATE_LIMIT_JOBS_PER_MINUTE', 100, MINUTE),
		jobsIp: per('RATE_LIMIT_JOBS_PER_MINUTE_PER_IP', 1000, MINUTE),
		// Guessing passwords: few tries per account from one address, so the owner elsewhere
		// isn't locked out; more per address (a household or office shares one); a ceiling
		// per account across addresses against a spread-out attacker.
		loginAccountIp: per('LOGIN_LIMIT_PER_ACCOUNT', 10, 15 * MINUTE),
		loginAccount: per('LOGIN_LIMIT_PER_ACCOUNT_ALL_ADDRESSES', 100, 15 * MINUTE),
		loginIp: per('LOGIN_LIMIT_PER_IP', 50, 15 * MINUTE),
		signupIp: per('SIGNUP_LIMIT_PER_IP', 10, HOUR),
		purchaseUser: per('PURCHASE_LIMIT_PER_DAY', 10, DAY),
		purchaseIp: per('PURCHASE_LIMIT_PER_IP', 60, HOUR),
		keysUser: per('API_KEY_LIMIT_PER_HOUR', 20, HOUR),
		islandsUser: per('ISLAND_LIMIT_PER_DAY', 20, DAY),
		accountWritesIp: per('ACCOUNT_WRITES_PER_IP_PER_HOUR', 200, HOUR),
		adminClaimIp: per('ADMIN_CLAIM_LIMIT_PER_IP', 10, HOUR)
	} satisfies Record<string, Policy>;
}
export type PolicyName = keyof ReturnType<typeof ratePolicies>;

export function tooMany(h: Hit, what: string) {
	return new ApiError(429, 'rate_limited', `Too many ${what}. Try again in ${h.resetSeconds} seconds.`, undefined, rateLimitHeaders(h));
}

/**
 * Counts one request against each budget: in memory on PGlite, in the database on PostgreSQL
 * (one statement for all of them). A spent budget is remembered until its window ends.
 */
async function countAll(budgets: [PolicyName, string][], env: NodeJS.ProcessEnv): Promise<Hit[]> {
	const policies = ratePolicies(env);
	const entries = budgets.map(([policy, key]) => ({ key: `${policy}:${key}`, policy: policies[policy] }));
	if (dbHandle().driver === 'pglite') return entries.map((e) => memory.hit(e.key, e.policy));
	const hits = await hitAll(db(), entries);
	entries.forEach((e, i) => refusals.note(e.key, hits[i]));
	return hits;
}

/** A budget this instance already saw spent, until its window ends (PostgreSQL; PGlite counts in memory anyway). */
function knownSpent(policy: PolicyName, key: string): Hit | null {
	return dbHandle().driver === 'pglite' ? null : refusals.refused(`${policy}:${key}`);
}

/** Counts one request against a budget (see countAll); a spent one answers from memory. */
export async function countAgainst(policy: PolicyName, key: string, env: NodeJS.ProcessEnv = process.env): Promise<Hit> {
	return knownSpent(policy, key) ?? (await countAll([[policy, key]], env))[0];
}

/**
 * Counts one request against each budget and throws a 429 (with Retry-After) for the first
 * one spent. Routes call it after reading their body once, so the count and the action
 * see the same input.
 */
export async function enforce(checks: [PolicyName, string, string][], env: NodeJS.ProcessEnv = process.env): Promise<Hit[]> {
	// A budget already spent refuses the request before the others are counted: a flood of
	// refused requests then costs no round trip at all (PostgreSQL; PGlite counts in memory).
	for (const [policy, key, what] of checks) {
		const refused = knownSpent(policy, key);
		if (refused) throw tooMany(refused, what);
	}
	const hits = await countAll(checks.map(([policy, key]) => [policy, key]), env);
	const refused = hits.findIndex((h) => !h.allowed);
	if (refused >= 0) throw tooMany(hits[refused], checks[refused][2]);
	return hits;
}

/**
 * Called from the `handle` hook after authentication, for /api/jobs*: budgets per user
 * (every key and session of theirs together) and per address. Returns a 429 response to
 * send instead of the route, or null to go on (with RateLimit-* headers of the user's budget).
 */
export async function applyRateLimits(event: RequestEvent): Promise<Response | null> {
	// The matched route, not the raw path: `/api/%6Aobs` reaches the same route undecoded.
	if (!event.route.id?.startsWith('/api/jobs')) return null;
	try {
		const checks: [PolicyName, string, string][] = [['jobsIp', clientAddress(event), 'requests from your network']];
		if (event.locals.user) checks.unshift(['jobsUser', event.locals.user.id, 'requests']);
		const [first] = await enforce(checks);
		event.setHeaders(rateLimitHeaders(first));
		return null;
	} catch (err) {
		if (err instanceof ApiError) return errorResponse(err);
		throw err;
	}
}
