/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />

// The app shell offline: each deploy's built assets and static files are precached under
// that deploy's version, a few pages are kept from the network for offline use, and any
// other navigation gets static/offline.html when the network is down.
//
// Never cached, and left to the browser's own fetch (only /api/auth/* passes through
// this worker, to refresh the kept pages after signing in or out):
// - /api/*: balances, jobs and images are per user and live; a cached answer would lie.
// - /models/*, /ort/*: the Island verifies and caches model files itself (Cache Storage +
//   idb); precaching tens of MB for every requester would waste their quota.
// - /_app/version.json: the update check must see the server.
// - /_app/immutable/workers/*: the Island's inference worker bundles ORT's JavaScript; only
//   volunteers need it, and it's no use offline without the model anyway.
import { build, files, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;

/** Every cache this worker owns starts with this; the Island's model cache does not. */
const CACHE_PREFIX = 'archipelago-shell-';
const CACHE = `${CACHE_PREFIX}${version}`;
const OFFLINE_PAGE = '/offline.html';

const BYPASS = /^\/(api|models|ort)\/|^\/_app\/version\.json$/;
const NOT_PRECACHED = /^\/_app\/immutable\/workers\//;
const ASSETS = [
	...build.filter((path) => !NOT_PRECACHED.test(new URL(path, sw.location.href).pathname)),
	...files.filter((path) => !BYPASS.test(new URL(path, sw.location.href).pathname))
];
const ASSET_SET = new Set(ASSETS);

/** Pages kept for offline use: the installed app's entry points, refreshed on each visit. */
const SHELL_PAGES = ['/', '/image', '/island'];

sw.addEventListener('install', (event) => {
	// No skipWaiting here: a new version waits until the page's "reload" asks for it, so an
	// open page never has its old chunks deleted under it.
	event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)));
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		(async () => {
			for (const key of await caches.keys()) {
				if (key.startsWith(CACHE_PREFIX) && key !== CACHE) await caches.delete(key);
			}
			await sw.clients.claim();
			// The page that registered this worker loaded before it existed; keep the shell
			// pages now, so the very first visit already works offline.
			await keepShellPages();
		})()
	);
});

sw.addEventListener('message', (event) => {
	if (event.data?.type === 'skip-waiting') void sw.skipWaiting();
});

sw.addEventListener('fetch', (event) => {
	const { request } = event;
	const url = new URL(request.url);
	if (url.origin !== sw.location.origin) return;
	// Signing in or out changes what the kept pages show (the header, the user's history):
	// once the server has answered, keep them afresh as the new session sees them. The
	// answer itself passes through untouched and uncached.
	if (url.pathname.startsWith('/api/auth/')) {
		const response = fetch(request);
		event.respondWith(response);
		event.waitUntil(response.then((res) => (res.ok ? keepShellPages() : undefined), () => undefined));
		return;
	}
	if (request.method !== 'GET' || BYPASS.test(url.pathname)) return;
	if (request.mode === 'navigate') {
		event.respondWith(navigate(event, url));
	} else if (ASSET_SET.has(url.pathname)) {
		event.respondWith(fromCache(request));
	}
});

/** Network first (the server has the truth and its COOP/COEP headers), the cache offline. */
async function navigate(event: FetchEvent, url: URL): Promise<Response> {
	try {
		const response = await fetch(event.request);
		if (SHELL_PAGES.includes(url.pathname)) event.waitUntil(keepPage(url.pathname, response.clone()).catch(() => undefined));
		return response;
	} catch {
		const cache = await caches.open(CACHE);
		const kept = SHELL_PAGES.includes(url.pathname) ? await cache.match(url.pathname) : undefined;
		// Cached responses carry the headers they were served with, COOP/COEP included, so
		// the page stays cross-origin isolated offline too.
		return kept ?? (await cache.match(OFFLINE_PAGE)) ?? Response.error();
	}
}

/** Stores a page response if it's the page itself (not a redirect to /login, not an error). */
async function keepPage(path: string, response: Response) {
	if (!response.ok || response.redirected || response.type !== 'basic') return;
	const cache = await caches.open(CACHE);
	await cache.put(path, response);
}

/** Fetches the shell pages as the current session sees them; a redirect (signed out) drops one. */
async function keepShellPages() {
	const cache = await caches.open(CACHE);
	await Promise.all(
		SHELL_PAGES.map(async (path) => {
			const response = await fetch(path).catch(() => null);
			if (!response) return;
			if (response.ok && !response.redirected) await keepPage(path, response);
			else await cache.delete(path);
		})
	);
}

async function fromCache(request: Request): Promise<Response> {
	const cache = await caches.open(CACHE);
	return (await cache.match(request)) ?? fetch(request);
}
