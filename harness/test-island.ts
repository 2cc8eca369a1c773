// A small Island that speaks the broker's HTTP protocol without running a model: it claims,
// posts progress and uploads a real PNG of the requested size. Tests and the dispatch bench
// drive the protocol with it.
import { createHash } from 'node:crypto';
import { encode } from 'fast-png';
import type { ApiClient } from './client';

export interface ClaimBody {
	job: { id: string; params: { width: number; height: number; steps: number; model: string; seed: number; prompt: string }; tier: string; attempt: number };
	lease: { token: string; expiresAt: string; ttlMs: number };
}

const pngCache = new Map<string, Uint8Array>();

interface CompleteOptions {
	progressSteps?: number;
	/** The PNG to upload (default: the same disc for every job of a size, cheap for benchmarks). */
	picture?: (claim: ClaimBody) => Uint8Array;
}

/**
 * A real RGBA PNG like the demo model's: a disc on a plain background (a few KB, as a
 * flat generated image compresses; an incompressible one would measure the PNG, not the broker).
 */
export function makePng(width: number, height: number): Uint8Array {
	const key = `${width}x${height}`;
	const cached = pngCache.get(key);
	if (cached) return cached;
	const data = new Uint8Array(width * height * 4);
	const r2 = (Math.min(width, height) / 4) ** 2;
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			const inside = (x - width / 2) ** 2 + (y - height / 2) ** 2 < r2;
			data.set(inside ? [220, 40, 40, 255] : [30, 60, 160, 255], i);
		}
	}
	const png = encode({ width, height, data, channels: 4, depth: 8 });
	pngCache.set(key, png);
	return png;
}

/**
 * The test Islands' "model": a deterministic picture of the params, as the real pipeline is
 * (same params and seed, same picture; anything else, another picture). A disc whose colour and
 * place come from a hash of the params, on a background from the same hash.
 */
export function drawFor(params: ClaimBody['job']['params']): Uint8Array {
	const { width, height } = params;
	const h = createHash('sha256').update(JSON.stringify([params.model, params.prompt, params.seed, width, height, params.steps])).digest();
	const data = new Uint8Array(width * height * 4);
	const cx = (0.25 + (h[0] / 255) * 0.5) * width, cy = (0.25 + (h[1] / 255) * 0.5) * height;
	const r2 = ((0.1 + (h[2] / 255) * 0.2) * Math.min(width, height)) ** 2;
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const inside = (x - cx) ** 2 + (y - cy) ** 2 < r2;
			data.set(inside ? [h[3], h[4], h[5], 255] : [h[6], h[7], h[8], 255], (y * width + x) * 4);
		}
	}
	return encode({ width, height, data, channels: 4, depth: 8 });
}

export class TestIsland {
	constructor(
		readonly baseUrl: string,
		readonly token: string,
		readonly id: string
	) {}

	/** Registers an Island for the signed-in `owner` and sends its first heartbeat. */
	static async register(owner: ApiClient, caps: { models?: string[]; maxPixels?: number; backend?: 'node' | 'wasm' | 'webgpu' } = {}) {
		const r = await owner.json('POST', '/api/islands', { json: { name: 'test island' } });
		if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
		const island = new TestIsland(owner.baseUrl, r.body.token, r.body.island.id);
		const hb = await island.call('POST', '/api/islands/heartbeat', { backend: caps.backend ?? 'node', models: caps.models ?? ['demo'], maxPixels: caps.maxPixels ?? 512 * 512 });
		if (hb.status !== 200) throw new Error(`heartbeat failed: ${hb.status}`);
		return island;
	}

	async call(method: string, path: string, json?: unknown, init: { headers?: Record<string, string>; body?: BodyInit; signal?: AbortSignal } = {}) {
		const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...init.headers };
		let body = init.body;
		if (json !== undefined) {
			headers['content-type'] = 'application/json';
			body = JSON.stringify(json);
		}
		const res = await fetch(this.baseUrl + path, { method, headers, body, signal: init.signal });
		const text = await res.text();
		let parsed: any = null;
		try {
			parsed = text ? JSON.parse(text) : null;
		} catch {
			parsed = text;
		}
		return { status: res.status, body: parsed, res };
	}

	/** One long-poll: the claim, or null on 204. */
	async claim(options: { signal?: AbortSignal; body?: unknown } = {}): Promise<ClaimBody | null> {
		const r = await this.call('POST', '/api/islands/claim', options.body ?? {}, { signal: options.signal });
		if (r.status === 204) return null;
		if (r.status !== 200) throw new Error(`claim failed: ${r.status} ${JSON.stringify(r.body)}`);
		return r.body as ClaimBody;
	}

	progress(jobId: string, lease: string, step: number, total: number, preview?: string) {
		return this.call('POST', `/api/islands/jobs/${jobId}/progress`, { lease, step, total, ...(preview ? { preview } : {}) });
	}

	result(jobId: string, lease: string, png: Uint8Array) {
		return this.call('POST', `/api/islands/jobs/${jobId}/result`, undefined, {
			headers: { 'content-type': 'image/png', 'x-lease': lease },
			body: png.slice().buffer
		});
	}

	fail(jobId: string, lease: string, reason: string) {
		return this.call('POST', `/api/islands/jobs/${jobId}/fail`, { lease, reason });
	}

	/** Claims one job (waiting for it) and completes it: progress each step, then the PNG. */
	async runOne(options: CompleteOptions = {}) {
		const claim = await this.claim();
		if (!claim) return null;
		return this.complete(claim, options);
	}

	/** Posts progress for the first `progressSteps` steps, then a PNG of the requested size. */
	async complete(claim: ClaimBody, options: CompleteOptions = {}) {
		const { job, lease } = claim;
		const total = job.params.steps;
		for (let step = 1; step <= Math.min(total, options.progressSteps ?? 0); step++) {
			const p = await this.progress(job.id, lease.token, step, total);
			if (p.status !== 200) throw new Error(`progress failed: ${p.status} ${JSON.stringify(p.body)}`);
		}
		const r = await this.result(job.id, lease.token, options.picture?.(claim) ?? makePng(job.params.width, job.params.height));
		if (r.status !== 200) throw new Error(`result failed: ${r.status} ${JSON.stringify(r.body)}`);
		return claim;
	}
}
