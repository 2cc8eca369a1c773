import type { Database } from '../db';
import type { EventBus } from '../events';
import type { ModelRegistry } from '$lib/models/registry';
import type { ClaimDispatcher } from './dispatch';
import type { ImageStore } from './images';

/** What every broker operation runs against; tests build one over a test database. */
export interface Broker {
	db: Database;
	/**
	 * PGlite runs one transaction at a time (one connection, each transaction holding it whole),
	 * so a row lock taken only to make concurrent transactions take turns is never needed there.
	 */
	serialTransactions: boolean;
	bus: EventBus;
	models: ModelRegistry;
	dispatcher: ClaimDispatcher;
	images: ImageStore;
	/** Aborted when the server shuts down: long-lived responses (SSE) end. */
	closing: AbortSignal;
}

export const MAX_ATTEMPTS = 3;
