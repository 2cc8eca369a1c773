// The requesters' side of a chaos run (harness/chaos.ts): verified requesters with credits
// for the worst case, random jobs submitted a few at a time, and the jobs watched until
// they end.
import { ApiClient } from './client';
import { demoManifest, setKyc } from './broker';

const STUDIO_PACK = 2000;
const MAX_JOB_COST = 50;

/** A submitted job as its requester last saw it. */
export interface Tracked {
	id: string;
	user: number;
	cost: number;
	width: number;
	height: number;
	seed: number;
	prompt: string;
	status: string;
	imageUrl: string | null;
	attempts: number;
	verification?: string;
}

export const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WORDS = ['red', 'blue', 'green', 'yellow', 'circle', 'square', 'star', 'on', 'a', 'background', 'black', 'white', 'ring', 'cross', 'heart'];

function randomParams(i: number) {
	const pick = <T>(a: readonly T[]) => a[Math.floor(Math.random() * a.length)];
	// One in five at the smallest size, which the real-inference Islands take too.
	const [width, height] = i % 5 === 0 ? demoManifest.sizes[0] : pick(demoManifest.sizes);
	const [lo, hi] = Math.random() < 0.8 ? demoManifest.steps.standard : demoManifest.steps.high;
	const steps = lo + Math.floor(Math.random() * (hi - lo + 1));
	const prompt = `${i} ${Array.from({ length: 3 + (i % 5) }, () => pick(WORDS)).join(' ')}`;
	return { prompt, model: 'demo', width, height, steps, seed: i, ...(i % 7 === 0 ? { negativePrompt: 'blurry' } : {}) };
}

/** Runs `fn` over `items` with at most `n` at once. */
export async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
	let next = 0;
	await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
		while (next < items.length) await fn(items[next++]);
	}));
}

/** `count` verified requesters, each with enough studio packs for its share of `jobs` at the highest cost; `purchased` is what each bought. */
export async function signUpRequesters(url: string, count: number, jobs: number) {
	const perUser = Math.ceil(jobs / count);
	const packs = Math.ceil((perUser * MAX_JOB_COST) / STUDIO_PACK);
	const requesters: ApiClient[] = [];
	const purchased: number[] = [];
	for (let u = 0; u < count; u++) {
		const c = new ApiClient(url);
		await c.signUp();
		await setKyc(c, 'verified');
		for (let p = 0; p < packs; p++) await c.buy('studio');
		requesters.push(c);
		purchased.push(packs * STUDIO_PACK);
	}
	return { requesters, purchased };
}

/**
 * Submits `jobs` random jobs, spread over the requesters, 4 at a time from construction on;
 * pausable around broker restarts so no submit is in flight when it dies (a lost response
 * would leave the client unsure whether its job exists).
 */
export class Submitter {
	readonly tracked: Tracked[] = [];
	refusedAtSubmit = 0;
	/** Every job has been submitted (or refused). */
	submitted = false;
	readonly done: Promise<void>;
	#gate: Promise<void> | null = null;
	#openGate = () => {};
	#inFlight = 0;

	constructor(jobs: number, requesters: ApiClient[], log: (m: string) => void) {
		const specs = Array.from({ length: jobs }, (_, i) => ({ i, user: i % requesters.length, params: randomParams(i) }));
		this.done = pool(specs, 4, async (spec) => {
			while (this.#gate) await this.#gate;
			this.#inFlight++;
			try {
				const r = await requesters[spec.user].json('POST', '/api/jobs', { json: { params: spec.params } });
				if (r.status !== 201) {
					this.refusedAtSubmit++;
					log(`submit refused: ${r.status} ${JSON.stringify(r.body)}`);
					return;
				}
				const job = r.body.job;
				const { width, height, seed, prompt } = job.params;
				this.tracked.push({ id: job.id, user: spec.user, cost: job.cost, width, height, seed, prompt, status: job.status, imageUrl: null, attempts: 0 });
			} finally {
				this.#inFlight--;
			}
		});
		void this.done.then(() => (this.submitted = true));
	}

	async pause() {
		this.#gate = new Promise<void>((r) => (this.#openGate = r));
		while (this.#inFlight > 0) await sleep(20);
	}

	resume() {
		this.#gate = null;
		this.#openGate();
	}
}

/** Reads the tracked jobs back as their requesters see them. */
export class JobWatcher {
	/** Off while the broker restarts: reads are skipped then. */
	serverUp = true;

	constructor(
		readonly tracked: Tracked[],
		readonly requesters: ApiClient[]
	) {}

	async refreshOne(t: Tracked) {
		if (!this.serverUp) return;
		const r = await this.requesters[t.user].json('GET', `/api/jobs/${t.id}`).catch(() => null);
		if (r?.status === 200) {
			t.status = r.body.job.status;
			t.imageUrl = r.body.job.imageUrl;
			t.attempts = r.body.job.attempts;
			t.verification = r.body.job.verification;
		}
	}

	/** The oldest unfinished jobs, a batch per round (they end roughly in order). */
	refresh() {
		return pool(this.tracked.filter((t) => !TERMINAL.has(t.status)).slice(0, 40), 4, (t) => this.refreshOne(t));
	}

	ended() {
		return this.tracked.filter((t) => TERMINAL.has(t.status)).length;
	}
}
