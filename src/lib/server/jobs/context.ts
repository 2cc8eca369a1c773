import type { Database } from '../db';
import type { EventBus } from '../events';
import type { ModelRegistry } from '$lib/models/registry';
import type { ClaimDispatcher } from './dispatch';
import type { ImageStore } from './images';

/** What every broker operation runs against; tests build one over a test database. */
export interface Broker {
	db: Database;
	bus: EventBus;
	models: ModelRegistry;
	dispatcher: ClaimDispatcher;
	images: ImageStore;
	/** Aborted when the server shuts down: long-lived responses (SSE) end. */
	closing: AbortSignal;
}

export const MAX_ATTEMPTS = 3;
