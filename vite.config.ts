import { sveltekit } from '@sveltejs/kit/vite';
import { defaultClientConditions, type Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { requestStoreOff } from './vite-plugins/request-store.js';

// `vite dev`/`preview` don't go through server/index.js; give them the same cross-origin
// isolation so the Island gets WASM threads there too (server.headers misses static/).
const crossOriginIsolation: Plugin = {
	name: 'archipelago-cross-origin-isolation',
	configureServer(server) {
		server.middlewares.use((_req, res, next) => {
			res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
			res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
			next();
		});
	},
	configurePreviewServer(server) {
		server.middlewares.use((_req, res, next) => {
			res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
			res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
			next();
		});
	}
};

export default defineConfig(({ command }) => ({
	plugins: [requestStoreOff, sveltekit(), crossOriginIsolation],
	server: { port: 3000 },
	// The build bundles SvelteKit's server internals itself (adapter-node would have, after Vite)
	// so that requestStoreOff reaches them; `vite dev` loads SvelteKit as it ships.
	ssr: command === 'build' ? { noExternal: ['@sveltejs/kit'] } : {},
	resolve: {
		// onnxruntime-web's non-bundled build: it loads its .mjs/.wasm from `ort.env.wasm.wasmPaths`
		// (the app's static/ort/ copy) instead of Vite emitting a second 28 MB wasm.
		conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions]
	},
	// The Island's module worker imports ORT, which code-splits: the default iife can't.
	worker: { format: 'es' },
	test: {
		include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
		globalSetup: ['tests/helpers/global-setup.ts'],
		testTimeout: 60_000,
		hookTimeout: 120_000,
		// Two cores: more workers only thrash; PostgreSQL runs use separate schemas per file.
		maxWorkers: 2
	}
}));
