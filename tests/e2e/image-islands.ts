// Islands for the /image end-to-end test: a scripted one the test drives call by call (so
// "step 2 of 4", a reload mid-job or a failure happen exactly when the test says), and the
// real headless Island (build/island/index.js, onnxruntime-node, the demo model) for real images.
import { setKyc } from '../../harness/broker';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { ApiClient } from '../../harness/client';

const root = new URL('../..', import.meta.url).pathname;

/** Registers an Island for a fresh owner account; returns its `isl_…` token. */
export async function registerIsland(baseUrl: string, name: string): Promise<string> {
	const owner = new ApiClient(baseUrl);
	await owner.signUp();
	await setKyc(owner, 'verified');
	const r = await owner.json('POST', '/api/islands', { json: { name } });
	if (r.status !== 201) throw new Error(`island registration failed: ${r.status} ${JSON.stringify(r.body)}`);
	return r.body.token as string;
}

/** A small preview as an Island sends it: a PNG data: URL. */
export function previewDataUrl(rgb: [number, number, number] = [200, 40, 40]): string {
	const size = 16;
	const data = new Uint8Array(size * size * 3);
	for (let i = 0; i < size * size; i++) data.set(rgb, i * 3);
	return `data:image/png;base64,${Buffer.from(encode({ width: size, height: size, data, channels: 3 })).toString('base64')}`;
}

export interface ScriptedClaim {
	id: string;
	params: { prompt: string; width: number; height: number; steps: number; seed: number };
	lease: string;
}

/** An Island that does only what the test tells it to, over the real HTTP protocol. */
export class ScriptedIsland {
	constructor(
		readonly baseUrl: string,
		readonly token: string
	) {}

	async #call(path: string, body: unknown) {
		const res = await fetch(this.baseUrl + path, {
			method: 'POST',
			headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', origin: this.baseUrl },
			body: JSON.stringify(body)
		});
		const text = await res.text();
		return { status: res.status, body: text ? JSON.parse(text) : null };
	}

	async heartbeat(backend: 'webgpu' | 'wasm' | 'node' = 'wasm') {
		const r = await this.#call('/api/islands/heartbeat', { backend, models: ['demo'], maxPixels: 512 * 512 });
		if (r.status !== 200) throw new Error(`heartbeat: ${r.status} ${JSON.stringify(r.body)}`);
	}

	/** Claims the oldest queued job (the test makes sure one is queued, so this returns at once). */
	async claim(): Promise<ScriptedClaim> {
		const r = await this.#call('/api/islands/claim', {});
		if (r.status !== 200) throw new Error(`claim: expected a job, got ${r.status}`);
		const lease = typeof r.body.lease === 'string' ? r.body.lease : r.body.lease.token;
		return { id: r.body.job.id, params: r.body.job.params, lease };
	}

	async progress(job: ScriptedClaim, step: number, total: number, preview?: string) {
		return (await this.#call(`/api/islands/jobs/${job.id}/progress`, { lease: job.lease, step, total, ...(preview ? { preview } : {}) })).status;
	}

	async fail(job: ScriptedClaim, reason: string) {
		const r = await this.#call(`/api/islands/jobs/${job.id}/fail`, { lease: job.lease, reason });
		if (r.status !== 200) throw new Error(`fail: ${r.status} ${JSON.stringify(r.body)}`);
		return r.body.status as string;
	}
}

/** The real headless Island as a child process; resolves once it is claiming. */
export async function startHeadlessIsland(baseUrl: string, token: string): Promise<{ process: ChildProcess; log: () => string; stop(): Promise<void> }> {
	const child = spawn(process.execPath, [join(root, 'build/island/index.js'), '--url', baseUrl, '--token', token], {
		cwd: root,
		env: { ...process.env, ORT_DISABLE_TELEMETRY: '1', ISLAND_STOP_GRACE_MS: '5000' },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let log = '';
	child.stdout!.on('data', (d) => (log += d));
	child.stderr!.on('data', (d) => (log += d));
	await new Promise<void>((resolve, reject) => {
		const onData = () => log.includes('ready, claiming') && (cleanup(), resolve());
		const onExit = (code: number | null) => (cleanup(), reject(new Error(`headless Island exited (${code}):\n${log}`)));
		const cleanup = () => {
			child.stdout!.off('data', onData);
			child.off('exit', onExit);
		};
		child.stdout!.on('data', onData);
		child.on('exit', onExit);
	});
	return {
		process: child,
		log: () => log,
		async stop() {
			if (child.exitCode !== null || child.signalCode !== null) return;
			const exited = new Promise((r) => child.once('exit', r));
			child.kill('SIGTERM');
			await exited;
		}
	};
}
