// The headless Island (src/island-node/main.ts) built into build/island/index.js, so `npm
// start` (its built-in Island) and volunteers run it with plain node and production
// dependencies only: no tsx, no TypeScript at run time. Runs after the app's build, which
// empties build/ first. Dependencies stay external (node_modules), as in the server bundle.
import { defineConfig } from 'vite';

const out = `${process.env.BUILD_DIR ?? 'build'}/island`;

export default defineConfig({
	build: {
		ssr: 'src/island-node/main.ts',
		outDir: out,
		emptyOutDir: true,
		target: 'node20',
		sourcemap: false,
		rollupOptions: { output: { entryFileNames: 'index.js', format: 'es' } }
	},
	logLevel: 'warn'
});
