import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresDatabase, type Driver } from './postgres';

const root = new URL('..', import.meta.url).pathname;

export interface TestServer {
	url: string;
	driver: Driver;
	process: ChildProcess;
	/** SIGTERM and wait; the database is kept so a restart sees the same data. */
	stop(signal?: NodeJS.Signals): Promise<void>;
	/** Stops the server and deletes its database. */
	dispose(): Promise<void>;
	/** Env to start another instance on the same database (PostgreSQL) or a restart (PGlite). */
	databaseEnv: Record<string, string>;
	/** What the server printed so far (stdout and stderr): the operator's console. */
	output(): string;
}

export interface StartOptions {
	env?: Record<string, string>;
	/** Reuse the database of a server started before (restart, or a second PostgreSQL instance). */
	databaseEnv?: Record<string, string>;
	/** Listen on this port (a restart that must keep its origin); default: a free one. */
	port?: number;
	/** Where to create the PostgreSQL database; default TEST_DATABASE_URL. */
	postgresUrl?: string;
	/**
	 * Start as `npm start` does (server/start.js, no build): with its built-in headless Island
	 * (build/island/index.js, vouched), on a fixed free port, since that Island needs the port.
	 */
	builtinIsland?: boolean;
	/** Node flags for the server process, after SERVER_EXEC_ARGV's. */
	execArgv?: string[];
}

/** A port nothing listens on now (the OS picks it). */
export async function freePort(): Promise<number> {
	const srv = net.createServer().listen(0, '127.0.0.1');
	await new Promise((r) => srv.once('listening', r));
	const port = (srv.address() as net.AddressInfo).port;
	await new Promise((r) => srv.close(r));
	return port;
}

/**
 * Every test client connects from 127.0.0.1, so budgets per address (and the beta's daily
 * purchase cap, which chaos runs exceed on purpose) would be shared by a whole file's
 * accounts. They are raised here; tests of those limits set them back (tests/api/abuse.test.ts).
 */
export const SHARED_ADDRESS_BUDGETS: Record<string, string> = {
	RATE_LIMIT_JOBS_PER_MINUTE_PER_IP: '1000000',
	LOGIN_LIMIT_PER_IP: '100000',
	SIGNUP_LIMIT_PER_IP: '100000',
	PURCHASE_LIMIT_PER_IP: '100000',
	PURCHASE_LIMIT_PER_DAY: '100000',
	ACCOUNT_WRITES_PER_IP_PER_HOUR: '100000',
	ISLAND_LIMIT_PER_DAY: '100000',
	MAX_CONNECTIONS_PER_ADDRESS: '5000'
};

/** Starts the production server (`server/index.js` on the build) on a free port. */
export async function startServer(driver: Driver, options: StartOptions = {}): Promise<TestServer> {
	let cleanup = async () => {};
	let databaseEnv = options.databaseEnv;
	if (!databaseEnv) {
		if (driver === 'pglite') {
			const dir = mkdtempSync(join(tmpdir(), 'archipelago-srv-'));
			databaseEnv = { DATA_DIR: dir };
			cleanup = async () => rmSync(dir, { recursive: true, force: true });
		} else {
			const created = await createPostgresDatabase(options.postgresUrl);
			databaseEnv = { DATABASE_URL: created.url };
			cleanup = created.drop;
		}
	}
	const listenPort = options.port ?? (options.builtinIsland ? await freePort() : 0);
	const child = fork(join(root, options.builtinIsland ? 'server/start.js' : 'server/index.js'), [], {
		cwd: root,
		// The plain build, as `npm start` runs it: not the caller's loader (vitest's, tsx's).
		// SERVER_EXEC_ARGV adds node flags for a profile (`--cpu-prof --cpu-prof-dir=…`).
		execArgv: [...(process.env.SERVER_EXEC_ARGV?.split(' ').filter(Boolean) ?? []), ...(options.execArgv ?? [])],
		env: {
			...process.env,
			BUILTIN_ISLANDS: '0',
			ORT_DISABLE_TELEMETRY: '1',
			...SHARED_ADDRESS_BUDGETS,
			...databaseEnv,
			...options.env,
			...(options.builtinIsland ? { BUILTIN_ISLANDS: '1', SKIP_BUILD: '1' } : {}),
			PORT: String(listenPort),
			HOST: '127.0.0.1'
		},
		stdio: ['ignore', 'pipe', 'pipe', 'ipc']
	});
	let output = '';
	child.stdout?.on('data', (d) => (output += d));
	child.stderr?.on('data', (d) => (output += d));
	// A server that refuses to start (a test of exactly that) leaves no database or folder.
	const port = await new Promise<number>((resolve, reject) => {
		child.on('message', (m: { type?: string; port?: number }) => m.type === 'listening' && resolve(m.port!));
		child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${output}`)));
	}).catch(async (err) => {
		await cleanup();
		throw err;
	});
	const url = `http://127.0.0.1:${port}`;
	// The init hook opens and migrates the database on the first request.
	for (let i = 0; ; i++) {
		const res = await fetch(`${url}/api/health`).catch(() => null);
		if (res?.ok) break;
		if (i > 300) throw new Error(`server not healthy:\n${output}`);
		await new Promise((r) => setTimeout(r, 100));
	}
	const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		const exited = new Promise((r) => child.once('exit', r));
		child.kill(signal);
		await exited;
	};
	return {
		url,
		driver,
		process: child,
		databaseEnv: databaseEnv!,
		output: () => output,
		stop,
		async dispose() {
			await stop();
			await cleanup();
		}
	};
}
