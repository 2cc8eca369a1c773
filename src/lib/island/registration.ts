// The browser Island's identity: its `isl_` token (registered once per user and browser, kept
// in localStorage) and its id beside it (GET /api/islands lists the owner's Islands by id).
// Kept apart from island.svelte.ts, which owns the worker and the loop.
import type { Capabilities } from '../api/islands';
import { BrokerError, IslandClient } from './protocol';
import type { IslandStanding } from './standing.svelte';

export class IslandRegistration {
	#userId: string;
	#standing: IslandStanding;

	constructor(userId: string, standing: IslandStanding) {
		this.#userId = userId;
		this.#standing = standing;
	}

	get #tokenKey() {
		return `archipelago.island-token.${this.#userId}`;
	}

	get #idKey() {
		return `archipelago.island-id.${this.#userId}`;
	}

	/** The id stored beside the token, if any (for the standing panel before the first claim). */
	storedId(): string | null {
		return localStorage.getItem(this.#idKey);
	}

	/** The broker no longer knows this Island: the next round registers a fresh one. */
	forget() {
		localStorage.removeItem(this.#tokenKey);
		localStorage.removeItem(this.#idKey);
	}

	/** This browser's Island token (registering one with `caps` the first time), and a client for it. */
	async client(caps: Capabilities): Promise<IslandClient> {
		let token = localStorage.getItem(this.#tokenKey);
		if (!token) {
			const res = await fetch('/api/islands', {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ name: `Browser Island (${caps.backend === 'webgpu' ? 'WebGPU' : 'WASM'})`, ...caps })
			});
			if (!res.ok) throw await registrationError(res);
			const body = (await res.json()) as { token: string; island: { id: string } };
			token = body.token;
			localStorage.setItem(this.#tokenKey, token);
			localStorage.setItem(this.#idKey, body.island.id);
			this.#standing.setIsland(body.island.id);
			// A new Island starts on probation: show it now, not after its first job.
			void this.#standing.refresh();
		}
		// A token kept from before ids were stored: its heartbeat answer names the Island.
		if (!localStorage.getItem(this.#idKey)) await this.#learnId(token, caps).catch(() => {});
		return new IslandClient({ url: location.origin, token });
	}

	async #learnId(token: string, caps: Capabilities) {
		const res = await fetch('/api/islands/heartbeat', {
			method: 'POST',
			headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
			body: JSON.stringify(caps)
		});
		if (!res.ok) return;
		const id = ((await res.json()) as { island?: { id?: string } }).island?.id;
		if (!id) return;
		localStorage.setItem(this.#idKey, id);
		this.#standing.setIsland(id);
		await this.#standing.refresh();
	}
}

/** POST /api/islands refused: keep the broker's code, so a refusal (owner not verified) is told as one. */
async function registrationError(res: Response): Promise<BrokerError> {
	const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
	const message = body?.error?.message ?? `HTTP ${res.status}`;
	return new BrokerError(res.status, body?.error?.code ?? `http_${res.status}`, `Registering this Island failed: ${message}`, message);
}
