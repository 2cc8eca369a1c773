// Security headers for every response of the production server (server/index.js), static
// files included: adapter-node serves those before hooks.server.ts could add anything. The
// Content-Security-Policy itself comes from SvelteKit (kit.csp in svelte.config.js), because
// its pages need a per-response nonce; these headers are the ones that don't vary by page.

/** Two years, the preload list's minimum; subdomains too, since the app sets cookies. */
export const HSTS = 'max-age=63072000; includeSubDomains';

/**
 * Whether the request reached the client over https, decided the way adapter-node decides
 * the request's origin: ORIGIN when set, otherwise the proxy's PROTOCOL_HEADER. A request
 * straight to this plain-http server is never https, whatever headers it carries.
 * @param {import('node:http').IncomingMessage} req
 * @param {NodeJS.ProcessEnv} [env]
 */
export function isHttps(req, env = process.env) {
	if (env.ORIGIN) return env.ORIGIN.toLowerCase().startsWith('https://');
	const name = env.PROTOCOL_HEADER?.toLowerCase();
	if (!name) return false;
	const value = req.headers[name];
	// A proxy chain may append ("https, http"): the first hop is the one the browser used.
	const first = (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim().toLowerCase();
	return first === 'https';
}

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {NodeJS.ProcessEnv} [env]
 */
export function setSecurityHeaders(req, res, env = process.env) {
	// Same-origin requests keep the full referrer (our own logs); other origins get the origin
	// only, so paths and queries (share links' signatures, tokens) never leave the site.
	res.setHeader('Referrer-Policy', 'strict-origin-when-cross-origin');
	// For browsers without CSP's frame-ancestors; also covers static files, which have no CSP.
	res.setHeader('X-Frame-Options', 'DENY');
	// Over plain http the header is ignored anyway, and a deployment tried out over http must
	// not be told to insist on https it doesn't have.
	if (isHttps(req, env)) res.setHeader('Strict-Transport-Security', HSTS);
}
