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
		// Open pages poll /_app/version.json and show "A new version is available" on a change.
		// APP_VERSION names a deploy; without it SvelteKit uses the build time.
		version: { name: process.env.APP_VERSION || undefined, pollInterval: 60_000 }
	}
};

export default config;
