// The one Island loop, for the browser tab and the headless Node Island alike: heartbeat on
// a timer (also while a long job runs, so the Island never looks offline mid-job), claim,
// generate on an engine, progress (throttled), result or failure, backoff when the broker
// is away, and a cooperative stop that either finishes the current job or hands it back.
// What differs between the two Islands is only the engine and how they obtain their token.
import { backoffMs, BrokerError, JobGoneError, type Capabilities, type ClaimedJob, type IslandClient, type JobParams } from './protocol';

export interface EngineStep {
	step: number;
	total: number;
	/** A small PNG of the denoised estimate so far. */
	preview?: Uint8Array;
}

/** Runs one job's model: onnxruntime-node, or onnxruntime-web in the browser's worker. */
export interface IslandEngine {
	/**
	 * Resolves with the finished PNG; rejects once `signal` aborts. `onStep` must not be awaited.
	 * `input`: a variation's input picture as the broker sent it (PNG bytes, not yet decoded).
	 */
	generate(params: JobParams, onStep: (s: EngineStep) => void, signal: AbortSignal, input?: Uint8Array): Promise<Uint8Array>;
}

export type JobOutcome = { kind: 'done'; earned: number } | { kind: 'failed'; reason: string } | { kind: 'gone' };

/**
 * Refusals about the Island itself, not the connection: quarantined (until an admin reinstates
 * it) or an owner who is not verified (until they verify). Retrying soon can't help, and calling
 * them "broker unreachable" would send the volunteer looking in the wrong place.
 */
export const REFUSAL_CODES = ['island_quarantined', 'owner_not_verified'] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];
export interface Refusal {
	code: RefusalCode;
	/** The broker's words (a quarantine carries its reason). */
	message: string;
}

export function refusalOf(e: unknown): Refusal | null {
	if (!(e instanceof BrokerError) || e.status !== 403) return null;
	const code = REFUSAL_CODES.find((c) => c === e.code);
	return code ? { code, message: e.brokerMessage } : null;
}

export interface RunnerOptions {
	/** The broker client; called again after a 401 (the browser then registers afresh). */
	client: () => Promise<IslandClient>;
	capabilities: () => Capabilities;
	engine: IslandEngine;
	heartbeatMs?: number;
	/** Minimum gap between progress posts; the last step is always sent. */
	progressEveryMs?: number;
	/** The broker answered 401: the token is gone (its Island was removed). */
	onUnauthorized?: () => void;
	onJobStart?: (job: ClaimedJob) => void;
	onStep?: (job: ClaimedJob, step: EngineStep) => void;
	onJobEnd?: (job: ClaimedJob, outcome: JobOutcome) => void;
	/** Connection trouble (a message) or its end (null). */
	onBrokerTrouble?: (message: string | null) => void;
	/**
	 * The broker refused this Island (quarantined, owner not verified), or a claim went through
	 * again after such a refusal (null). The loop keeps asking every `refusedRetryMs`, so an
	 * admin's reinstatement or the owner's verification puts the Island back to work by itself.
	 */
	onRefused?: (refusal: Refusal | null) => void;
	refusedRetryMs?: number;
	log?: (message: string) => void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
	new Promise<void>((resolve) => {
		// Already stopped (e.g. from the callback just before): an abort event won't come again.
		if (signal?.aborted) return resolve();
		const t = setTimeout(resolve, ms);
		signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
	});

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class IslandRunner {
	jobsDone = 0;
	#opts: RunnerOptions;
	#stopping = new AbortController(); // no new claims
	#job: AbortController | null = null; // the running job
	#current: ClaimedJob | null = null;
	#handBackReason: string | null = null;
	#client: IslandClient | null = null;

	constructor(opts: RunnerOptions) {
		this.#opts = opts;
	}

	get busy(): boolean {
		return this.#current !== null;
	}

	get current(): ClaimedJob | null {
		return this.#current;
	}

	#log(message: string) {
		this.#opts.log?.(message);
	}

	async #getClient(): Promise<IslandClient> {
		this.#client ??= await this.#opts.client();
		return this.#client;
	}

	#unauthorized(e: unknown) {
		if (e instanceof BrokerError && e.status === 401) {
			this.#client = null;
			this.#opts.onUnauthorized?.();
		}
	}

	async #heartbeat() {
		try {
			await (await this.#getClient()).heartbeat(this.#opts.capabilities());
		} catch (e) {
			this.#unauthorized(e);
			throw e;
		}
	}

	/** Claims and runs jobs until stop(); resolves once the last job was finished or handed back. */
	async run(): Promise<void> {
		const beat = setInterval(() => void this.#heartbeat().catch(() => {}), this.#opts.heartbeatMs ?? 30_000);
		try {
			await this.#loop();
		} finally {
			clearInterval(beat);
		}
	}

	async #loop() {
		const stop = this.#stopping.signal;
		let failures = 0;
		let refused = false;
		let beaten = false;
		while (!stop.aborted) {
			try {
				if (!beaten) {
					await this.#heartbeat();
					beaten = true;
				}
				const job = await (await this.#getClient()).claim(stop);
				if (failures > 0) this.#opts.onBrokerTrouble?.(null);
				if (refused) this.#opts.onRefused?.(null);
				failures = 0;
				refused = false;
				if (job) await this.#work(job);
			} catch (e) {
				if (stop.aborted) break;
				this.#unauthorized(e);
				const refusal = refusalOf(e);
				if (refusal) {
					refused = true;
					beaten = false;
					this.#opts.onRefused?.(refusal);
					const wait = this.#opts.refusedRetryMs ?? 30_000;
					this.#log(`refused (${refusal.code}: ${refusal.message}); asking again in ${wait} ms`);
					await sleep(wait, stop);
					continue;
				}
				if (e instanceof BrokerError && !e.retryable && e.status !== 401 && e.status !== 403) throw e;
				const wait = backoffMs(failures++);
				beaten = false;
				this.#opts.onBrokerTrouble?.(`Broker unreachable (${messageOf(e)}); retrying in ${Math.round(wait / 1000)} s.`);
				this.#log(`broker unreachable (${messageOf(e)}); retrying in ${wait} ms`);
				await sleep(wait, stop);
			}
		}
	}

	/** Claims nothing more; run() resolves once the current job (if any) is done. */
	stop(): void {
		if (this.#stopping.signal.aborted) return;
		this.#stopping.abort();
		if (this.#current) this.#log(`stopping after job ${this.#current.id}`);
	}

	/** Stops at once: the current job is aborted and handed back to the broker with `reason`. */
	handBack(reason: string): void {
		this.stop();
		if (!this.#job) return;
		this.#handBackReason = reason;
		this.#job.abort(new Error(reason));
	}

	async #work(job: ClaimedJob) {
		const client = await this.#getClient();
		const ac = new AbortController();
		this.#job = ac;
		this.#current = job;
		this.#handBackReason = null;
		this.#opts.onJobStart?.(job);
		let outcome: JobOutcome = { kind: 'gone' };
		let lastSent = 0;
		let inFlight: Promise<void> | null = null;
		const onStep = (s: EngineStep) => {
			if (ac.signal.aborted) return;
			this.#opts.onStep?.(job, s);
			// One post at a time and at most every progressEveryMs: the requester gets a live
			// view without the network ever pacing the denoising loop.
			const now = Date.now();
			if (inFlight || (s.step !== s.total && now - lastSent < (this.#opts.progressEveryMs ?? 250))) return;
			lastSent = now;
			inFlight = client
				.progress(job, s.step, s.total, s.preview)
				// Cancelled by the requester or lease lost: stop computing for nobody. Other
				// progress errors are not fatal: the result call decides.
				.catch((e) => void (e instanceof JobGoneError && ac.abort(e)))
				.finally(() => (inFlight = null));
		};
		try {
			// A variation's input comes through the lease, like every other call about the job.
			const input = job.params.variation ? await this.#withRetry(() => client.input(job)) : undefined;
			const png = await this.#opts.engine.generate(job.params, onStep, ac.signal, input);
			await inFlight;
			if (ac.signal.aborted) throw ac.signal.reason;
			const { earned } = await this.#withRetry(() => client.result(job, png));
			this.jobsDone++;
			outcome = { kind: 'done', earned };
		} catch (e) {
			if (e instanceof JobGoneError || ac.signal.reason instanceof JobGoneError) {
				this.#log(`job ${job.id}: cancelled by the broker, dropped`);
				return;
			}
			const reason = this.#handBackReason ?? messageOf(e);
			outcome = { kind: 'failed', reason };
			this.#log(`job ${job.id}: failed: ${reason}`);
			// If even this fails the lease expires and the broker re-dispatches: nothing is lost.
			await this.#withRetry(() => client.fail(job, reason)).catch((err) => this.#log(`job ${job.id}: could not report failure (${messageOf(err)})`));
		} finally {
			this.#job = null;
			this.#current = null;
			this.#opts.onJobEnd?.(job, outcome);
		}
	}

	/** A few quick retries for transient errors: the lease is still ours meanwhile. */
	async #withRetry<T>(fn: () => Promise<T>): Promise<T> {
		for (let attempt = 0; ; attempt++) {
			try {
				return await fn();
			} catch (e) {
				const transient = !(e instanceof JobGoneError) && (!(e instanceof BrokerError) || e.retryable);
				if (!transient || attempt >= 4) throw e;
				await sleep(backoffMs(attempt, 5_000));
			}
		}
	}
}
