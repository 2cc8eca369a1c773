// The built-in Island of `npm start` (BUILTIN_ISLANDS=0 turns it off): one headless Island
// child process speaking the same HTTP protocol as volunteers' Islands, so a fresh install
// generates images with no volunteer. Its token is made here and reaches the server through
// BUILTIN_ISLAND_TOKEN (registered hashed by the init hook); it is never written anywhere.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** Call before importing server.js (the server reads the token at init). */
export function prepareBuiltinIsland(env = process.env) {
	if (env.BUILTIN_ISLANDS === '0') return null;
	const port = Number(env.PORT ?? 3000);
	if (!port) {
		console.warn('[start] PORT=0: the built-in Island needs a fixed port, not started');
		return null;
	}
	// The Island is TypeScript run through tsx (a devDependency): absent after --omit=dev.
	if (!existsSync(join(root, 'node_modules/tsx'))) {
		console.warn('[start] tsx is not installed (npm install without --omit=dev): built-in Island not started');
		return null;
	}
	const token = `isl_${randomBytes(32).toString('base64url')}`;
	env.BUILTIN_ISLAND_TOKEN = token;
	const host = env.HOST && !['0.0.0.0', '::'].includes(env.HOST) ? env.HOST : '127.0.0.1';
	const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
	const manifest = pathToFileURL(join(root, 'static/models/demo/manifest.json')).href;
	const grace = Number(env.ISLAND_STOP_GRACE_MS ?? 30_000);
	let child = null;
	let stopping = false;

	function spawnIsland() {
		const childEnv = { ...env, ISLAND_URL: url, ISLAND_TOKEN: token, ORT_DISABLE_TELEMETRY: '1' };
		delete childEnv.BUILTIN_ISLAND_TOKEN;
		// Own process group: a terminal's Ctrl-C reaches only this supervisor, which then asks
		// the Island to finish its job before the server stops answering. The IPC channel lets
		// the Island notice if this process dies without a word.
		child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/island.ts'), '--model', manifest], {
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
		 * Takes over the server's SIGINT/SIGTERM handlers: the Island is stopped first (it
		 * finishes or hands back its job while the broker still answers), then the server.
		 */
		superviseShutdown() {
			for (const sig of ['SIGINT', 'SIGTERM']) {
				const serverHandlers = process.listeners(sig);
				process.removeAllListeners(sig);
				process.on(sig, () => {
					const first = !stopping;
					stopping = true;
					if (child) {
						child.kill('SIGTERM'); // a second signal makes the Island hand its job back now
						if (!first) return;
						const done = () => serverHandlers.forEach((h) => h(sig));
						const timer = setTimeout(() => (child?.kill('SIGKILL'), done()), grace);
						child.once('exit', () => (clearTimeout(timer), done()));
					} else if (first) serverHandlers.forEach((h) => h(sig));
				});
			}
		}
	};
}
