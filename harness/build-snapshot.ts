// A private copy of build/ for one test file or script: a long run must keep loading the
// same code (routes are imported lazily, on their first request) even if build/ is rebuilt
// meanwhile, as happens when several people share a working tree. It lives inside
// node_modules/.cache so the server's external packages still resolve from it.
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

const root = new URL('..', import.meta.url).pathname;

/** Copies build/ and returns `BUILD_DIR` (relative to the project root, for server/index.js). */
export function snapshotBuild(): { buildDir: string; env: { BUILD_DIR: string }; remove(): void } {
	const buildDir = `node_modules/.cache/archipelago-build-${process.pid}-${randomBytes(3).toString('hex')}`;
	cpSync(`${root}build`, `${root}${buildDir}`, { recursive: true });
	// build/ is ESM by the project's package.json; the copy needs its own.
	writeFileSync(`${root}${buildDir}/package.json`, '{ "type": "module" }\n');
	return { buildDir, env: { BUILD_DIR: buildDir }, remove: () => rmSync(`${root}${buildDir}`, { recursive: true, force: true }) };
}
