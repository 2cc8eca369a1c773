import type { Client, Pool } from 'pg';
import { sql } from 'drizzle-orm';
import type { Queryable } from '../db/client';
import type { BrokerEvent, EventBus, Listener } from './index';
import { dispatch } from './memory';

const CHANNEL = 'archipelago_events';

/**
 * LISTEN on one dedicated connection (a pooled one would be handed to other queries);
 * NOTIFY through the pool. Every instance, this one included, hears every event.
 */
export class PostgresEventBus implements EventBus {
	#listeners = new Set<Listener>();
	#client: Client | null = null;
	#closed = false;
	#retry: ReturnType<typeof setTimeout> | null = null;

	constructor(
		readonly url: string,
		readonly pool: Pool
	) {}

	async start() {
		const { default: pg } = await import('pg');
		const client = new pg.Client({ connectionString: this.url });
		client.on('notification', (msg) => {
			if (msg.channel !== CHANNEL || !msg.payload) return;
			let event: BrokerEvent;
			try {
				event = JSON.parse(msg.payload);
			} catch {
				return;
			}
			dispatch(this.#listeners, event);
		});
		// A dropped LISTEN connection is re-opened; meanwhile the claim loop's slow poll and the
		// SSE refresh cover the gap, so nothing waits forever.
		client.on('error', (err) => {
			console.error('event bus connection lost:', err.message);
			this.#reconnect(client);
		});
		client.on('end', () => this.#reconnect(client));
		await client.connect();
		await client.query(`listen ${CHANNEL}`);
		this.#client = client;
	}

	#reconnect(dead: Client) {
		if (this.#closed || this.#client !== dead || this.#retry) return;
		this.#client = null;
		this.#retry = setTimeout(() => {
			this.#retry = null;
			this.start().catch((err) => {
				console.error('event bus reconnect failed:', err.message);
				this.#client = dead;
				this.#reconnect(dead);
			});
		}, 1000);
	}

	/**
	 * Never throws: it runs after the change committed, and a lost wake-up must not turn a
	 * settled result into an error (claims re-check on their slow poll, SSE on its tick).
	 */
	async publish(event: BrokerEvent) {
		await this.pool.query('select pg_notify($1, $2)', [CHANNEL, JSON.stringify(event)]).catch((err) => {
			console.error('event bus: NOTIFY failed:', err.message);
		});
	}

	async stage(tx: Queryable, event: BrokerEvent) {
		await tx.execute(sql`select pg_notify(${CHANNEL}, ${JSON.stringify(event)})`);
		return () => {};
	}

	subscribe(listener: Listener) {
		this.#listeners.add(listener);
		return () => void this.#listeners.delete(listener);
	}

	async close() {
		this.#closed = true;
		if (this.#retry) clearTimeout(this.#retry);
		this.#listeners.clear();
		const client = this.#client;
		this.#client = null;
		await client?.end().catch(() => {});
	}
}
