// The built-in Island of `npm start` (BUILTIN_ISLANDS=0 turns it off): one headless Island
// child process (build/island/index.js, built with the app) speaking the same HTTP protocol
// as volunteers' Islands, so a fresh install generates images with no volunteer. Its token is
// made here and reaches the server through BUILTIN_ISLAND_TOKEN (registered hashed by the
// init hook); it is never written anywhere.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/**
 * The built-in models it offers, read from the app's own files (no HTTP round trip to the
 * server it starts beside): src/lib/models/builtin.ts's list, which a test keeps this equal to.
 */
export const BUILTIN_MODELS = ['demo', 'objects'];

/** Call before importing index.js (the server reads the token at init). */
export function prepareBuiltinIsland(env = process.env) {
	if (env.BUILTIN_ISLANDS === '0') return null;
	const port = Number(env.PORT ?? 3000);
	if (!port) {
		console.warn('[start] PORT=0: the built-in Island needs a fixed port, not started');
		return null;
	}
	const entry = join(root, env.BUILD_DIR ?? 'build', 'island/index.js');
	if (!existsSync(entry)) {
		console.warn(`[start] ${entry} is missing (an old build?): built-in Island not started; run npm run build`);
		return null;
	}
	const token = `isl_${randomBytes(32).toString('base64url')}`;
	env.BUILTIN_ISLAND_TOKEN = token;
	const host = env.HOST && !['0.0.0.0', '::'].includes(env.HOST) ? env.HOST : '127.0.0.1';
	const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
	const manifests = BUILTIN_MODELS.flatMap((id) => ['--model', pathToFileURL(join(root, `static/models/${id}/manifest.json`)).href]);
	const grace = Number(env.ISLAND_STOP_GRACE_MS ?? 30_000);
	/** @type {import('node:child_process').ChildProcess | null} */
	let child = null;
	let stopping = false;

	function spawnIsland() {
		/** @type {NodeJS.ProcessEnv} */
		const childEnv = { ...env, ISLAND_URL: url, ISLAND_TOKEN: token, ORT_DISABLE_TELEMETRY: '1' };
		delete childEnv.BUILTIN_ISLAND_TOKEN;
		// Own process group: a terminal's Ctrl-C reaches only the server, which then asks the
		// Island to finish its job before it stops answering. The IPC channel lets the Island
		// notice if the server dies without a word.
		child = spawn(process.execPath, [entry, ...manifests], {
			cwd: root,
			env: childEnv,
			stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
			detached: true
		});
		child.on('exit', (code, signal) => {
			child = null;
			if (stopping) return;
			console.error(`[start] built-in Island exited (${signal ?? code}); restarting in 5 s`);
			setTimeout(() => !stopping && spawnIsland(), 5000).unref();
		});
	}

	return {
		start: spawnIsland,
		/**
		 * The server's stop step (onStopSignal): on the first signal the Island finishes its job
		 * and exits (at most `grace`, then it is killed); a second signal makes it hand the job
		 * back at once.
		 * @param {number} signalCount
		 * @returns {Promise<void>}
		 */
		stop(signalCount) {
			stopping = true;
			const running = child;
			if (!running) return Promise.resolve();
			running.kill('SIGTERM');
			if (signalCount > 1) return Promise.resolve();
			return new Promise((resolve) => {
				const timer = setTimeout(() => (running.kill('SIGKILL'), resolve()), grace);
				running.once('exit', () => (clearTimeout(timer), resolve()));
			});
		}
	};
}
