import type { Queryable } from '../db/client';
import type { BrokerEvent, EventBus, Listener } from './index';

export class MemoryEventBus implements EventBus {
	#listeners = new Set<Listener>();

	async publish(event: BrokerEvent) {
		// Delivered asynchronously, like a NOTIFY after commit, so a listener never runs inside the publisher's code.
		queueMicrotask(() => dispatch(this.#listeners, event));
	}

	async stage(_tx: Queryable, event: BrokerEvent) {
		return () => void this.publish(event);
	}

	subscribe(listener: Listener) {
		this.#listeners.add(listener);
		return () => void this.#listeners.delete(listener);
	}

	async close() {
		this.#listeners.clear();
	}
}

export function dispatch(listeners: Iterable<Listener>, event: BrokerEvent) {
	for (const listener of [...listeners]) {
		try {
			listener(event);
		} catch (err) {
			console.error('event listener failed:', err);
		}
	}
}
