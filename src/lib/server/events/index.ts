// Wake-ups and SSE fan-out. Payloads stay small (ids, a model and a size): whoever cares
// reads the rest from the database, so a PostgreSQL NOTIFY (8 KB max) always fits.
import type { DatabaseHandle, Queryable } from '../db/client';
import { MemoryEventBus } from './memory';
import { PostgresEventBus } from './postgres';

export type BrokerEvent =
	/** A job is claimable (new, or back in the queue): wakes long-polling Islands. */
	| {
			type: 'queued';
			id: string;
			model: string;
			pixels: number;
			/** Only this Island may take it (a canary for an Island on probation). */
			island?: string;
			/** Only a vouched Island may take it (a canary's reference run). */
			vouchedOnly?: boolean;
			/** A canary's answer is known now: an Island on probation waiting for one may claim. */
			forProbation?: boolean;
			/** Owners whose Islands may not take it (it failed on theirs; a check of their result). */
			barred?: string[];
	  }
	/** Anything a watcher of the job sees changed (status, progress): SSE streams reload it. */
	| { type: 'job'; id: string }
	/** The user's sessions and keys are gone (account deleted): every instance forgets them at once. */
	| { type: 'identity'; userId: string };

export type Listener = (event: BrokerEvent) => void;

export interface EventBus {
	publish(event: BrokerEvent): Promise<void>;
	/**
	 * Publishes as part of a transaction: PostgreSQL delivers the NOTIFY at commit (and drops
	 * it on rollback) with no round trip after it. Call the returned function once the
	 * transaction committed; the in-process bus delivers then.
	 */
	stage(tx: Queryable, event: BrokerEvent): Promise<() => void>;
	/** Returns the unsubscribe function. */
	subscribe(listener: Listener): () => void;
	close(): Promise<void>;
}

/** One process on PGlite: in-process. Several instances on PostgreSQL: LISTEN/NOTIFY. */
export async function createEventBus(handle: DatabaseHandle): Promise<EventBus> {
	if (handle.driver === 'pglite') return new MemoryEventBus();
	const bus = new PostgresEventBus(handle.url, handle.pool);
	await bus.start();
	return bus;
}

export { MemoryEventBus, PostgresEventBus };
