// SvelteKit keeps each request's event in an AsyncLocalStorage (for getRequestEvent() after an
// `await`, and remote functions). On Node 20 that turns on V8's promise hooks for the whole
// process from the first request: every promise then carries its context, and the broker makes
// hundreds a job (PGlite, Drizzle, the routes). Measured: about 3 % of the server's CPU a job and
// 7 % of its allocations (docs/broker-costs.md). The app uses neither feature, so the server build
// takes SvelteKit's own fallback for runtimes without AsyncLocalStorage: the event is readable
// synchronously inside handle and the endpoints, as before, and not after an `await`.
// Node ≥ 22.7's AsyncContextFrame makes the store cheap; with it this plugin can go.

/** SvelteKit's module that holds the request store (@sveltejs/kit 2.x). */
const STORE_MODULE = /@sveltejs[\\/]kit[\\/]src[\\/]exports[\\/]internal[\\/]event\.js$/;
const STORE_IMPORT = "import('node:async_hooks')";

/**
 * The module's source with its AsyncLocalStorage import refused, as on a runtime without one.
 * @param {string} code
 */
export function withoutRequestStore(code) {
	// Loud rather than silently slow: a SvelteKit that moved the store needs this plugin updated.
	if (!code.includes(STORE_IMPORT)) throw new Error(`vite-plugins/request-store.js: SvelteKit's request store no longer imports ${STORE_IMPORT}; update the plugin`);
	return code.replace(STORE_IMPORT, "Promise.reject(new Error('AsyncLocalStorage is off in this build (vite-plugins/request-store.js)'))");
}

/**
 * The production build only: `vite dev` and vitest keep SvelteKit as it ships.
 * @type {import('vite').Plugin}
 */
export const requestStoreOff = {
	name: 'archipelago-request-store-off',
	apply: 'build',
	enforce: 'pre',
	transform(code, id) {
		if (STORE_MODULE.test(id)) return { code: withoutRequestStore(code), map: null };
	}
};
