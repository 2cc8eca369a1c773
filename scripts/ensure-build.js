// Builds the app when any source is newer than the build. Shared by `npm start`, vitest's
// and Playwright's global setup; a lock keeps concurrent callers from building over each other.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { copyOrt } from './copy-ort.js';

const root = new URL('..', import.meta.url).pathname;
const stamp = join(root, 'build/handler.js');
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
	const inputs = ['src', 'static', 'drizzle'].map((d) => join(root, d)).filter(existsSync);
	const configs = ['svelte.config.js', 'vite.config.ts', 'package.json'].map((f) => join(root, f)).filter(existsSync);
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
		execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build'], {
			cwd: root,
			// Under vitest NODE_ENV is 'test', which would build dev-mode libraries into the app
			// (Svelte's and SvelteKit's dev checks: +12 KB gzip on /image) and test something else.
			env: { ...process.env, NODE_ENV: 'production' },
			stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit'
		});
	} finally {
		rmSync(lock, { recursive: true, force: true });
	}
}
