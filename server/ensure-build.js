// Builds the app, then the headless Island, when any source is newer than the build. Shared
// by `npm start`, vitest's and Playwright's global setup; a lock keeps concurrent callers from
// building over each other. Without devDependencies (`npm ci --omit=dev`) nothing can be
// built: an existing build is served as it is.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { copyOrt } from './copy-ort.js';

const root = new URL('..', import.meta.url).pathname;
// The Island is built last (the app's build empties build/ first): its output stamps the whole.
const stamp = join(root, 'build/island/index.js');
const vite = join(root, 'node_modules/vite/bin/vite.js');
const lock = join(root, '.build-lock');

/** @param {string} dir @returns {number} */
function newestMtime(dir) {
	let newest = 0;
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
	}
	return newest;
}

function isStale() {
	if (!existsSync(stamp)) return true;
	const inputs = ['src', 'static', 'drizzle', 'vite-plugins'].map((d) => join(root, d)).filter(existsSync);
	const configs = ['svelte.config.js', 'vite.config.ts', 'vite.island.config.ts', 'package.json'].map((f) => join(root, f)).filter(existsSync);
	const newest = Math.max(...inputs.map(newestMtime), ...configs.map((f) => statSync(f).mtimeMs));
	return newest > statSync(stamp).mtimeMs;
}

/** @param {number} ms */
function sleep(ms) {
	Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function ensureBuild({ quiet = false } = {}) {
	// ORT's runtime files live in git-ignored static/ort/; a fresh copy makes the build stale.
	if (process.env.SKIP_BUILD !== '1') copyOrt();
	if (process.env.SKIP_BUILD === '1' || !isStale()) return;
	if (!existsSync(vite)) {
		if (existsSync(join(root, 'build/handler.js'))) {
			console.warn('[build] the sources look newer than build/, but vite (a devDependency) is not installed: serving the existing build');
			return;
		}
		throw new Error('No build/ and no vite to make one: run `npm install` (with devDependencies) and `npm run build` first.');
	}
	for (let waited = 0; ; waited += 500) {
		try {
			mkdirSync(lock);
			break;
		} catch {
			// Someone else is building; a lock older than 5 minutes is from a killed build.
			if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
			sleep(500);
		}
	}
	try {
		if (!isStale()) return;
		if (!quiet) console.log('Building the app (first start, or the sources changed)…');
		for (const args of [['build'], ['build', '--config', 'vite.island.config.ts']]) {
			execFileSync(process.execPath, [vite, ...args], {
				cwd: root,
				// Under vitest NODE_ENV is 'test', which would build dev-mode libraries into the app
				// (Svelte's and SvelteKit's dev checks: +12 KB gzip on /image) and test something else.
				env: { ...process.env, NODE_ENV: 'production' },
				stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit'
			});
		}
	} finally {
		rmSync(lock, { recursive: true, force: true });
	}
}
