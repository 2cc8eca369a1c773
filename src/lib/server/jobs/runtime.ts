// The broker of this server process: started by the `init` hook, stopped on shutdown.
import { forgetUser } from '../auth/identity-cache';
import { builtinModels, ModelRegistry } from '$lib/models/registry';
import { deleteExpiredSessions } from '../auth/sessions';
import type { DatabaseHandle } from '../db/client';
import { createEventBus } from '../events';
import type { Broker } from './context';
import { ClaimDispatcher } from './dispatch';
import { DatabaseImageStore } from './images';
import { markSilentIslandsOffline } from './islands';
import { deleteFinishedProgress, reapExpiredLeases } from './lifecycle';
import { sweep as sweepRateLimits } from '../rate-limit/counter';
import { releaseDueEscrow } from '../trust/escrow';
import { ensureSystemUser } from '../trust/canaries';

/** How often expired leases and silent Islands are looked for (REAP_INTERVAL_MS env: chaos runs). */
export const REAP_INTERVAL_MS = Number(process.env.REAP_INTERVAL_MS) || 5_000;
/** Expired sessions are refused at once anyway; purging them only bounds the table, so hourly will do. */
export const SESSION_PURGE_INTERVAL_MS = 60 * 60_000;

let current: (Broker & { drain(): void; stop(): Promise<void> }) | null = null;

/** Builds a broker over an open database (tests build their own over a test database). */
export async function createBroker(handle: DatabaseHandle, models = new ModelRegistry(builtinModels())): Promise<Broker & { drain(): void; close(): Promise<void> }> {
	await ensureSystemUser(handle.db);
	const bus = await createEventBus(handle);
	const closing = new AbortController();
	const dispatcher = new ClaimDispatcher(bus);
	return {
		db: handle.db,
		serialTransactions: handle.driver === 'pglite',
		bus,
		models,
		dispatcher,
		images: new DatabaseImageStore(),
		closing: closing.signal,
		drain() {
			// Shutdown's first phase: no more claims, long-polls and SSE streams end, but
			// in-flight requests (a result upload, a progress post) still have the database.
			dispatcher.drain();
			closing.abort();
		},
		async close() {
			// Claims first: sleeping long-polls return 204 now, and nothing new is handed out.
			dispatcher.close();
			closing.abort();
			await bus.close();
		}
	};
}

/** One sweep: finished jobs' progress rows deleted, expired leases back to the queue (or failed), silent Islands offline, due escrow released. */
export async function reapOnce(broker: Broker) {
	// First, and on its own: finished jobs' previews (pictures of requesters' images) must not
	// pile up because a later step keeps failing.
	const progressCleared = await deleteFinishedProgress(broker.db).catch((err) => (console.error('progress sweep:', err), 0));
	const jobs = await reapExpiredLeases(broker);
	const offline = await markSilentIslandsOffline(broker.db);
	const released = await broker.db.transaction((tx) => releaseDueEscrow(tx));
	return { jobs, offline, released, progressCleared };
}

/**
 * The reaper's sweep: every call runs reapOnce; the first call, and then at most one per
 * `sessionPurgeInterval`, also deletes expired sessions and rate-limit rows whose window has
 * long passed (on PGlite the budgets count in memory, but remembered sign-in addresses are rows). Every instance sweeps; the deletes
 * are idempotent, so instances overlapping is harmless.
 */
export function periodicSweep(broker: Broker, sessionPurgeInterval = SESSION_PURGE_INTERVAL_MS) {
	let lastPurge = -Infinity;
	return async () => {
		const reaped = await reapOnce(broker);
		let sessionsPurged: number | null = null;
		if (Date.now() - lastPurge >= sessionPurgeInterval) {
			lastPurge = Date.now();
			sessionsPurged = await deleteExpiredSessions(broker.db);
			await sweepRateLimits(broker.db);
		}
		return { ...reaped, sessionsPurged };
	};
}

export async function startBroker(handle: DatabaseHandle, models?: ModelRegistry): Promise<Broker> {
	if (current) return current;
	const broker = await createBroker(handle, models);
	const sweep = periodicSweep(broker);
	// Another instance deleted an account: its identity cache must not serve it for 5 s more.
	const unsubscribe = broker.bus.subscribe((e) => e.type === 'identity' && forgetUser(e.userId));
	// Leases that expired while no server was running go back to the queue at once.
	let sweeping: Promise<unknown> = sweep().catch((err) => console.error('reaper:', err));
	// Every instance reaps; the guarded UPDATEs make concurrent sweeps harmless.
	const timer = setInterval(() => {
		sweeping = sweep().catch((err) => console.error('reaper:', err));
	}, REAP_INTERVAL_MS);
	timer.unref();
	current = {
		...broker,
		async stop() {
			clearInterval(timer);
			unsubscribe();
			await broker.close();
			await sweeping;
		}
	};
	return current;
}

export function broker(): Broker {
	if (!current) throw new Error('broker not started (the init hook starts it)');
	return current;
}

/** SIGTERM's first phase (server/index.js): stop handing out work, keep serving. */
export function drainBroker() {
	current?.drain();
}

export async function stopBroker() {
	const running = current;
	current = null;
	await running?.stop();
}
