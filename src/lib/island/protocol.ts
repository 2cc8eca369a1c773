// The Island side of the broker protocol (docs/broker.md, the HTTP API), fetch-based so the
// browser Island's worker and the headless Node Island share it.
import { ClaimResponse, ResultResponse, type Capabilities, type JobParams } from '../api/islands';

export type { Capabilities, JobParams };

export interface ClaimedJob {
	id: string;
	params: JobParams;
	/** The lease token every later call about this job must carry. */
	lease: string;
	leaseExpiresAt?: string;
}

export function parseClaim(body: unknown): ClaimedJob {
	const { job, lease } = ClaimResponse.parse(body);
	return { id: job.id, params: job.params, lease: lease.token, leaseExpiresAt: lease.expiresAt };
}

/** The broker said this job is no longer ours: cancelled (410) or the lease moved on (409). */
export class JobGoneError extends Error {
	constructor(readonly status: number, message: string) {
		super(message);
		this.name = 'JobGoneError';
	}
}

/** Any other non-2xx answer. `retryable` for 5xx/429, where backing off and retrying helps. */
export class BrokerError extends Error {
	/** `brokerMessage`: the broker's own words, without the path and status (for people). */
	constructor(readonly status: number, readonly code: string, message: string, readonly brokerMessage = message) {
		super(message);
		this.name = 'BrokerError';
	}
	get retryable(): boolean {
		return this.status >= 500 || this.status === 429;
	}
}

/** The broker stores results of at most 8 MiB; an input is one of them. */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

export interface IslandClientOptions {
	/** Broker origin, e.g. http://localhost:3000 */
	url: string;
	/** `isl_…` */
	token: string;
	fetch?: typeof fetch;
}

function base64(bytes: Uint8Array): string {
	let s = '';
	for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
	return btoa(s);
}

export class IslandClient {
	#base: string;
	#token: string;
	#fetch: typeof fetch;

	constructor(opts: IslandClientOptions) {
		this.#base = opts.url.replace(/\/+$/, '');
		this.#token = opts.token;
		this.#fetch = opts.fetch ?? ((...a) => fetch(...a));
	}

	async #call(path: string, init: RequestInit & { json?: unknown }): Promise<Response> {
		const headers = new Headers(init.headers);
		headers.set('authorization', `Bearer ${this.#token}`);
		let body = init.body;
		if (init.json !== undefined) {
			headers.set('content-type', 'application/json');
			body = JSON.stringify(init.json);
		}
		const res = await this.#fetch(`${this.#base}${path}`, { method: 'POST', ...init, headers, body });
		if (res.ok) return res;
		let code = `http_${res.status}`, message = res.statusText;
		try {
			const err = (await res.json()) as { error?: { code?: string; message?: string } };
			code = err.error?.code ?? code;
			message = err.error?.message ?? message;
		} catch {
			/* not JSON: keep the status line */
		}
		if (res.status === 410 || res.status === 409) throw new JobGoneError(res.status, message);
		throw new BrokerError(res.status, code, `${path}: ${res.status} ${message}`, message);
	}

	/** Long-poll (≤ 25 s broker-side): a job with its lease, or null when none came. */
	async claim(signal?: AbortSignal): Promise<ClaimedJob | null> {
		const res = await this.#call('/api/islands/claim', { json: {}, signal });
		if (res.status === 204) return null;
		return parseClaim(await res.json());
	}

	/** `preview` is a small PNG; sent as a data URL so the broker can store/forward it as is. */
	async progress(job: ClaimedJob, step: number, total: number, preview?: Uint8Array): Promise<void> {
		const body: Record<string, unknown> = { lease: job.lease, step, total };
		if (preview) body.preview = `data:image/png;base64,${base64(preview)}`;
		await this.#call(`/api/islands/jobs/${encodeURIComponent(job.id)}/progress`, { json: body });
	}

	/** Uploads the finished PNG; answers the credits its owner earned for it. */
	async result(job: ClaimedJob, png: Uint8Array): Promise<{ earned: number }> {
		const res = await this.#call(`/api/islands/jobs/${encodeURIComponent(job.id)}/result`, {
			headers: { 'content-type': 'image/png', 'x-lease': job.lease },
			body: png.slice().buffer
		});
		const parsed = ResultResponse.safeParse(await res.json().catch(() => null));
		return { earned: parsed.success ? parsed.data.earned : 0 };
	}

	/**
	 * A variation's input picture (GET with the lease). Checked here as far as bytes go: a PNG
	 * of at most MAX_INPUT_BYTES; its size is checked once decoded (decodeInputPng).
	 */
	async input(job: ClaimedJob): Promise<Uint8Array> {
		const res = await this.#call(`/api/islands/jobs/${encodeURIComponent(job.id)}/input.png`, { method: 'GET', headers: { 'x-lease': job.lease } });
		const bytes = new Uint8Array(await res.arrayBuffer());
		if (bytes.length > MAX_INPUT_BYTES) throw new Error(`the input picture is ${bytes.length} bytes, more than ${MAX_INPUT_BYTES}`);
		return bytes;
	}

	/** `keepalive` lets a hand-back sent as a tab closes outlive the page (small JSON only). */
	async fail(job: ClaimedJob, reason: string, options: { keepalive?: boolean } = {}): Promise<void> {
		await this.#call(`/api/islands/jobs/${encodeURIComponent(job.id)}/fail`, {
			json: { lease: job.lease, reason: reason.trim().slice(0, 500) || 'unknown error' },
			keepalive: options.keepalive
		});
	}

	async heartbeat(caps: Capabilities): Promise<void> {
		await this.#call('/api/islands/heartbeat', { json: caps });
	}
}

/**
 * Exponential backoff, 0.5 s, 1 s, 2 s … capped at 30 s, with jitter on the upper half so
 * Islands reconnecting to a restarted broker don't arrive in lockstep.
 */
export function backoffMs(attempt: number, capMs = 30_000, baseMs = 500): number {
	const d = Math.min(capMs, baseMs * 2 ** attempt);
	return Math.round(d / 2 + (Math.random() * d) / 2);
}
