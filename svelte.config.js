import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// precompress would brotli ORT's 28 MB wasm on every build (+~100 s on 2 cores).
		adapter: adapter({ precompress: false })
	}
};

export default config;
