// The broker of this server process: started by the `init` hook, stopped on shutdown.
import { builtinModels, ModelRegistry } from '$lib/models/registry';
import type { DatabaseHandle } from '../db/client';
import { createEventBus } from '../events';
import type { Broker } from './context';
import { ClaimDispatcher } from './dispatch';
import { DatabaseImageStore } from './images';
import { markSilentIslandsOffline } from './islands';
import { reapExpiredLeases } from './lifecycle';

/** How often expired leases and silent Islands are looked for. */
export const REAP_INTERVAL_MS = 5_000;

let current: (Broker & { stop(): Promise<void> }) | null = null;

/** Builds a broker over an open database (tests build their own over a test database). */
export async function createBroker(handle: DatabaseHandle, models = new ModelRegistry(builtinModels())): Promise<Broker & { close(): Promise<void> }> {
	const bus = await createEventBus(handle);
	const closing = new AbortController();
	const dispatcher = new ClaimDispatcher(bus);
	return {
		db: handle.db,
		bus,
		models,
		dispatcher,
		images: new DatabaseImageStore(),
		closing: closing.signal,
		async close() {
			// Claims first: sleeping long-polls return 204 now, and nothing new is handed out.
			dispatcher.close();
			closing.abort();
			await bus.close();
		}
	};
}

/** One sweep: expired leases back to the queue (or failed), silent Islands offline. */
export async function reapOnce(broker: Broker) {
	const jobs = await reapExpiredLeases(broker);
	const offline = await markSilentIslandsOffline(broker.db);
	return { jobs, offline };
}

export async function startBroker(handle: DatabaseHandle, models?: ModelRegistry): Promise<Broker> {
	if (current) return current;
	const broker = await createBroker(handle, models);
	let sweeping: Promise<unknown> = Promise.resolve();
	// Every instance reaps; the guarded UPDATEs make concurrent sweeps harmless.
	const timer = setInterval(() => {
		sweeping = reapOnce(broker).catch((err) => console.error('reaper:', err));
	}, REAP_INTERVAL_MS);
	timer.unref();
	current = {
		...broker,
		async stop() {
			clearInterval(timer);
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

export async function stopBroker() {
	const running = current;
	current = null;
	await running?.stop();
}
