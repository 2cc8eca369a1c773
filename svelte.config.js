import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

// BUILD_DIR builds somewhere other than build/ (the PWA update test builds a second version
// without touching the shared build); SvelteKit's own output then goes beside it.
const buildDir = process.env.BUILD_DIR;

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// precompress would brotli ORT's 28 MB wasm on every build (+~100 s on 2 cores).
		adapter: adapter({ precompress: false, out: buildDir ?? 'build' }),
		outDir: buildDir ? `${buildDir}-kit` : '.svelte-kit',
		// `npm run check` type-checks the test harness and the bench scripts too, not only src/ and tests/.
		typescript: {
			config: (tsconfig) => ({ ...tsconfig, include: [...tsconfig.include, '../harness/**/*.ts', '../scripts/**/*.ts'] })
		},
		// Open pages poll /_app/version.json and show "A new version is available" on a change.
		// APP_VERSION names a deploy; without it SvelteKit uses the build time.
		version: { name: process.env.APP_VERSION || undefined, pollInterval: 60_000 },
		// Every SSR page carries this policy as a header, with a fresh nonce for SvelteKit's own
		// inline boot script ('auto': hashes instead on prerendered pages, of which there are none).
		// It is static on purpose: the browser only ever talks to this origin (the Island loads
		// the demo model from /models/; SD-Turbo's SDTURBO_BASE_URL is fetched by the server and
		// Node Islands, never by a page), so no directive depends on runtime configuration.
		csp: {
			mode: 'auto',
			directives: {
				'default-src': ['self'],
				// onnxruntime-web compiles its WASM with WebAssembly.instantiate; nothing uses eval.
				'script-src': ['self', 'wasm-unsafe-eval'],
				// The Island's module worker and ORT's pthread workers are files under /_app and /ort.
				'worker-src': ['self'],
				// Stylesheets are files; only style attributes are inline (app.html's wrapper div,
				// SvelteKit's route announcer), and those can neither run script nor use selectors.
				'style-src': ['self'],
				'style-src-attr': ['unsafe-inline'],
				// Live previews are data: URLs, Island test renders blob: URLs.
				'img-src': ['self', 'data:', 'blob:'],
				// blob: URLs are made by this origin's own scripts (an Island test render read back).
				'connect-src': ['self', 'blob:'],
				'object-src': ['none'],
				'base-uri': ['self'],
				'form-action': ['self'],
				// Only honoured as a header (SvelteKit drops it from <meta>); X-Frame-Options backs it up.
				'frame-ancestors': ['none']
			}
		}
	}
};

export default config;
