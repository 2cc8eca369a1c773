// The chaos run behind `npm run chaos` (1,000 jobs) and tests/chaos.test.ts (100 jobs): a
// real broker process and real Island processes; Islands are SIGKILLed mid-job and the broker
// is restarted (SIGTERM, then SIGKILL) while jobs run. Then every job must have ended, each
// at most once charged, the ledger balanced, balances equal to what the completed jobs cost
// and every image a valid PNG of its size. With `liars`, trust is on and some Islands lie
// (harness/chaos-trust.ts measures what got through).
import { checkPng } from '../src/lib/server/jobs/png-check';
import { ApiClient } from './client';
import { decideIsland, demoManifest, ledgerAdmin, setKyc } from './broker';
import { readDatabase } from './chaos-db';
import { isHonestPicture } from './chaos-picture';
import { awaitProbation, awaitVerification, brokerEnv, establish, ownersEarnings, TRUST_QUERIES, trustReport, type Role, type TrustReport } from './chaos-trust';
import type { Driver } from './postgres';
import { startServer, type TestServer } from './server';
import { snapshotBuild } from './build-snapshot';
import { IslandProcess } from './chaos-island-process';

const STUDIO_PACK = 2000;
const MAX_JOB_COST = 50;

export interface ChaosOptions {
	driver: Driver;
	/** An existing database (npm run chaos with DATABASE_URL); default: a fresh one. */
	databaseEnv?: Record<string, string>;
	jobs: number;
	/** Fast Islands (scripts/chaos-island.ts: full protocol, real PNGs, no inference). */
	islands: number;
	/** Islands running the demo model on onnxruntime-node (build/island/index.js), small jobs only. */
	realIslands?: number;
	requesters?: number;
	/** Island owners, all verified (default: one per Island, so a job one gave up has others). */
	owners?: number;
	/** Trust on at the product's defaults, this many fast Islands lying (CHAOS_LIE); off when undefined. */
	liars?: number;
	/** The share of jobs a liar lies on once past probation. */
	lieRate?: number;
	/**
	 * With `liars`: the honest Islands have been trusted for 30 days, so past their first weeks'
	 * higher spot-check rate (an established network that the liars join); default: all new.
	 */
	established?: boolean;
	/** Trust knobs over the defaults (TRUST_NEW_ISLAND_SPOT_CHECK_RATE…), with `liars` only. */
	trustEnv?: Record<string, string>;
	/** Share of all Islands SIGKILLed while they hold a job. */
	killFraction?: number;
	/** Broker restarts, in order, spread over the run. */
	restarts?: NodeJS.Signals[];
	stepMs?: number;
	/** Give up waiting for jobs to end after this long (they then count as lost). */
	timeoutMs?: number;
	log?: (m: string) => void;
}

export interface ChaosReport {
	driver: Driver;
	jobs: { submitted: number; refusedAtSubmit: number; completed: number; failed: number; cancelled: number; lost: number };
	islands: { fast: number; real: number; killed: number; jobsByReal: number };
	restarts: string[];
	charges: { maxSettlementsPerJob: number; maxReleasesPerJob: number; completedWithoutSettlement: number; failedWithoutRefund: number };
	ledger: { ok: boolean; sum: number; entries: number; transactions: number; problems: string[] };
	balances: { requestersMatch: boolean; ownersMatch: boolean; spent: number; expectedSpent: number; earned: number; expectedEarned: number; forfeited: number; held: number };
	pngs: { checked: number; valid: number; problems: string[] };
	attempts: { max: number; requeued: number };
	trust: TrustReport | null;
	/** With trust: whether the honest Islands were established (ChaosOptions.established). */
	established: boolean;
	durationMs: number;
	ok: boolean;
}

interface Tracked {
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

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
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
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
	let next = 0;
	await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
		while (next < items.length) await fn(items[next++]);
	}));
}

/** Settlements and refunds per job, read from the database itself once the broker is down. */
const PER_JOB = `select j.id, j.status, j.attempts,
	count(t.id) filter (where t.kind = 'settle')::int as settles,
	count(t.id) filter (where t.kind = 'refund')::int as refunds
	from jobs j left join ledger_transactions t on t.job_id = j.id group by j.id, j.status, j.attempts`;
type PerJob = { id: string; status: string; attempts: number; settles: number; refunds: number };

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
	const log = opts.log ?? (() => {});
	const started = Date.now();
	const restarts = opts.restarts ?? ['SIGTERM', 'SIGKILL'];
	const requesterCount = opts.requesters ?? 4;
	// Every restart must load the same code, whatever happens to build/ meanwhile.
	const build = snapshotBuild();
	const trust = opts.liars !== undefined;
	const env = {
		...brokerEnv(trust, opts.trustEnv),
		...build.env,
		// Killed Islands are noticed within seconds, not the production minute.
		LEASE_FLOOR_MS: process.env.CHAOS_LEASE_MS ?? '6000',
		LEASE_CEILING_MS: process.env.CHAOS_LEASE_MS ?? '6000',
		REAP_INTERVAL_MS: '500',
		SHUTDOWN_TIMEOUT: '5',
		// Each requester keeps hundreds of jobs queued: the load, not the per-user queue limit, is under test.
		MAX_ACTIVE_JOBS_PER_USER: '1000000'
	};
	const first = await startServer(opts.driver, { env, databaseEnv: opts.databaseEnv }).catch((err) => {
		build.remove();
		throw err;
	});
	let server: TestServer = first;
	const url = first.url;
	const port = Number(new URL(url).port);
	const islands: IslandProcess[] = [];
	const restartLog: string[] = [];
	try {
		// People: verified requesters with enough credits for the worst case, Island owners.
		const perUser = Math.ceil(opts.jobs / requesterCount);
		const packs = Math.ceil((perUser * MAX_JOB_COST) / STUDIO_PACK);
		const requesters: ApiClient[] = [];
		const purchased: number[] = [];
		for (let u = 0; u < requesterCount; u++) {
			const c = new ApiClient(url);
			await c.signUp();
			await setKyc(c, 'verified');
			for (let p = 0; p < packs; p++) await c.buy('studio');
			requesters.push(c);
			purchased.push(packs * STUDIO_PACK);
		}
		const admin = await ledgerAdmin(url);
		const stepMs = opts.stepMs ?? 20;
		const total = opts.islands + (opts.realIslands ?? 0);
		// Islands earn, so owners are verified; a job an owner's Island gave up never goes back
		// to that owner, so each Island has its own by default.
		const owners: ApiClient[] = [];
		for (let o = 0; o < (opts.owners ?? total); o++) {
			const c = new ApiClient(url);
			await c.signUp();
			await setKyc(c, 'verified');
			owners.push(c);
		}
		// With trust: Island 0 is the operator's reference, vouched by the admin before it runs
		// (canaries need its answers), and Islands 1…liars lie.
		if (trust) await setKyc(admin, 'verified');
		const onProbation: { owner: ApiClient; id: string }[] = [];
		const registered: { role: Role; token: string; id: string }[] = [];
		for (let i = 0; i < total; i++) {
			const role: Role = !trust ? 'honest' : i === 0 ? 'reference' : i <= opts.liars! ? 'liar' : 'honest';
			const owner = role === 'reference' ? admin : owners[i % owners.length];
			const r = await owner.json('POST', '/api/islands', { json: { name: `chaos ${i} (${role})` } });
			if (r.status !== 201) throw new Error(`island registration: ${r.status} ${JSON.stringify(r.body)}`);
			if (role === 'reference') await decideIsland(admin, r.body.island.id, 'vouch');
			else if (!(opts.established && role === 'honest')) onProbation.push({ owner, id: r.body.island.id });
			registered.push({ role, token: r.body.token, id: r.body.island.id });
		}
		if (trust && opts.established) {
			// The honest Islands passed probation weeks ago: the database says so, written while the
			// broker is down (PGlite is one process's at a time), as an operator's restore would.
			await server.stop();
			await readDatabase(first.databaseEnv, establish(registered.filter((r) => r.role === 'honest').map((r) => r.id)));
			server = await startServer(opts.driver, { env, databaseEnv: first.databaseEnv, port });
		}
		for (const [i, r] of registered.entries()) islands.push(new IslandProcess(i < opts.islands ? 'fast' : 'real', r.token, url, stepMs, r.id, r.role, opts.lieRate ?? 0.2));
		log(`${opts.islands} fast + ${opts.realIslands ?? 0} real Islands started on ${opts.driver}${trust ? `, trust on, ${opts.liars} liar(s)` : ''}`);
		if (trust) log(`${await awaitProbation(onProbation, 180_000)} Island(s) still on probation; submitting`);

		// Submitting, pausable around broker restarts so no submit is in flight when it dies
		// (a lost response would leave the client unsure whether its job exists).
		const tracked: Tracked[] = [];
		let refusedAtSubmit = 0;
		let gate: Promise<void> | null = null;
		let openGate = () => {};
		let inFlight = 0;
		const specs = Array.from({ length: opts.jobs }, (_, i) => ({ i, user: i % requesterCount, params: randomParams(i) }));
		const submitting = pool(specs, 4, async (spec) => {
			while (gate) await gate;
			inFlight++;
			try {
				const r = await requesters[spec.user].json('POST', '/api/jobs', { json: { params: spec.params } });
				if (r.status !== 201) {
					refusedAtSubmit++;
					log(`submit refused: ${r.status} ${JSON.stringify(r.body)}`);
					return;
				}
				const job = r.body.job;
				const { width, height, seed, prompt } = job.params;
				tracked.push({ id: job.id, user: spec.user, cost: job.cost, width, height, seed, prompt, status: job.status, imageUrl: null, attempts: 0 });
			} finally {
				inFlight--;
			}
		});
		let submitted = false;
		void submitting.then(() => (submitted = true));
		const pause = async () => {
			gate = new Promise<void>((r) => (openGate = r));
			while (inFlight > 0) await sleep(20);
		};
		const resume = () => {
			gate = null;
			openGate();
		};

		// Watching: the oldest unfinished jobs, a batch per round (they end roughly in order).
		let serverUp = true;
		const refreshOne = async (t: Tracked) => {
			if (!serverUp) return;
			const r = await requesters[t.user].json('GET', `/api/jobs/${t.id}`).catch(() => null);
			if (r?.status === 200) {
				t.status = r.body.job.status;
				t.imageUrl = r.body.job.imageUrl;
				t.attempts = r.body.job.attempts;
				t.verification = r.body.job.verification;
			}
		};
		const refresh = () => pool(tracked.filter((t) => !TERMINAL.has(t.status)).slice(0, 40), 4, refreshOne);
		const ended = () => tracked.filter((t) => TERMINAL.has(t.status)).length;

		// The schedule: kills and restarts at fractions of the jobs ended.
		const kills = Math.max(1, Math.round(total * (opts.killFraction ?? 0.1)));
		type Event = { at: number; what: 'kill' | 'restart'; signal?: NodeJS.Signals };
		const events: Event[] = [
			...Array.from({ length: kills }, (_, k) => ({ at: (k + 1) / (kills + 1) - 0.05, what: 'kill' as const })),
			...restarts.map((signal, k) => ({ at: (k + 1) / (restarts.length + 1), what: 'restart' as const, signal }))
		].sort((a, b) => a.at - b.at);

		const deadline = started + (opts.timeoutMs ?? 20 * 60_000);
		let lastLog = 0;
		while (Date.now() < deadline) {
			await refresh();
			const done = ended();
			const event = events[0];
			if (event && done >= event.at * opts.jobs) {
				events.shift();
				if (event.what === 'kill') {
					// Mid-job: wait (briefly) for a live Island that holds one.
					let victim: IslandProcess | undefined;
					for (let w = 0; w < 100 && !victim; w++) {
						// Never the reference (canaries wait on it) nor a liar (it would just stop lying).
						victim = islands.find((p) => p.busy && !p.killed && p.kind === 'fast' && p.role === 'honest');
						if (!victim) await sleep(20);
					}
					victim ??= islands.find((p) => !p.killed && p.role === 'honest');
					victim?.kill();
					log(`SIGKILL Island ${islands.indexOf(victim!)} (busy: ${victim?.busy}) at ${done}/${opts.jobs} ended`);
				} else {
					await pause();
					serverUp = false;
					const t0 = Date.now();
					await server.stop(event.signal);
					server = await startServer(opts.driver, { env, databaseEnv: first.databaseEnv, port });
					serverUp = true;
					resume();
					restartLog.push(`${event.signal} at ${done}/${opts.jobs} ended, back in ${Date.now() - t0} ms`);
					log(`broker restarted (${event.signal}) at ${done}/${opts.jobs} ended, down ${Date.now() - t0} ms`);
				}
				continue;
			}
			if (submitted && done === tracked.length && events.length === 0) break;
			if (Date.now() - lastLog > 5000) {
				lastLog = Date.now();
				log(`${tracked.length} submitted, ${done} ended`);
			}
			await sleep(250);
		}
		await submitting;

		// With trust: spot checks, third runs and reruns finish (bounded), then each job is re-read
		// for the picture it shows now.
		const completed = tracked.filter((t) => t.status === 'completed');
		const pendingAtEnd = trust ? await awaitVerification(async () => (await pool(completed, 4, refreshOne), completed), 180_000, log) : 0;

		// Every completed job's image: a valid PNG of the requested size, from its owner, and
		// with trust the honest picture (the fast Islands' is known: harness/chaos-picture.ts).
		const pngProblems: string[] = [];
		let valid = 0;
		const wrong: string[] = [];
		await pool(completed, 4, async (t) => {
			const res = t.imageUrl ? await requesters[t.user].request('GET', t.imageUrl) : null;
			if (!res || res.status !== 200) {
				pngProblems.push(`${t.id}: image ${res?.status ?? 'missing'}`);
				return;
			}
			const bytes = new Uint8Array(await res.arrayBuffer());
			const check = checkPng(bytes, { width: t.width, height: t.height });
			if (trust && check.ok && !isHonestPicture(bytes, t)) wrong.push(t.id);
			if (check.ok) valid++;
			else pngProblems.push(`${t.id}: ${check.reason}`);
		});

		// Money: the invariant check, then each requester's balance against its completed jobs.
		const check = (await admin.json('GET', '/api/admin/ledger/check')).body;
		let requestersMatch = true;
		let spent = 0;
		let held = 0;
		const expectedSpent = completed.reduce((s, t) => s + t.cost, 0);
		for (let u = 0; u < requesterCount; u++) {
			const b = (await requesters[u].json('GET', '/api/me')).body.balance;
			const cost = completed.filter((t) => t.user === u).reduce((s, t) => s + t.cost, 0);
			if (b.available !== purchased[u] - cost || b.held !== 0) requestersMatch = false;
			spent += purchased[u] - b.available - b.held;
			held += b.held;
		}

		await Promise.all(islands.map((p) => p.stop()));
		await server.stop();
		const rows = await readDatabase(first.databaseEnv, { ...TRUST_QUERIES, perJob: PER_JOB });
		const ids = new Set(tracked.map((t) => t.id));
		const perJob = (rows.perJob as PerJob[]).filter((r) => ids.has(r.id));
		const byId = new Map(perJob.map((r) => [r.id, r]));
		// Owners: escrow + available against 80 % of their Islands' runs (chaos-trust.ts).
		const { earned, expectedEarned, forfeited } = ownersEarnings(rows);
		const report: ChaosReport = {
			driver: opts.driver,
			jobs: {
				submitted: tracked.length,
				refusedAtSubmit,
				completed: completed.length,
				failed: tracked.filter((t) => t.status === 'failed').length,
				cancelled: tracked.filter((t) => t.status === 'cancelled').length,
				lost: tracked.filter((t) => !TERMINAL.has(byId.get(t.id)?.status ?? t.status)).length
			},
			islands: {
				fast: opts.islands,
				real: opts.realIslands ?? 0,
				killed: islands.filter((p) => p.killed).length,
				jobsByReal: islands.filter((p) => p.kind === 'real').reduce((s, p) => s + p.jobsDone, 0)
			},
			restarts: restartLog,
			charges: {
				maxSettlementsPerJob: Math.max(0, ...perJob.map((r) => r.settles)),
				maxReleasesPerJob: Math.max(0, ...perJob.map((r) => r.settles + r.refunds)),
				completedWithoutSettlement: perJob.filter((r) => r.status === 'completed' && r.settles !== 1).length,
				failedWithoutRefund: perJob.filter((r) => r.status === 'failed' && (r.refunds !== 1 || r.settles !== 0)).length
			},
			ledger: { ok: check.ok, sum: check.totals.sum, entries: check.totals.entries, transactions: check.totals.transactions, problems: check.problems },
			balances: { requestersMatch, ownersMatch: earned === expectedEarned, spent, expectedSpent, earned, expectedEarned, forfeited, held },
			pngs: { checked: completed.length, valid, problems: pngProblems.slice(0, 10) },
			attempts: { max: Math.max(0, ...perJob.map((r) => r.attempts)), requeued: perJob.filter((r) => r.attempts > 1).length },
			trust: trust ? trustReport(rows, islands, wrong, pendingAtEnd, opts.trustEnv ?? {}) : null,
			established: trust && !!opts.established,
			durationMs: Date.now() - started,
			ok: false
		};
		report.ok =
			report.jobs.lost === 0 &&
			report.jobs.submitted === opts.jobs &&
			report.jobs.completed + report.jobs.failed === report.jobs.submitted &&
			report.charges.maxReleasesPerJob <= 1 &&
			report.charges.completedWithoutSettlement === 0 &&
			report.charges.failedWithoutRefund === 0 &&
			report.ledger.ok &&
			report.ledger.sum === 0 &&
			requestersMatch &&
			report.balances.ownersMatch &&
			report.pngs.valid === report.pngs.checked &&
			(report.trust === null || report.trust.falseFlags.honestQuarantined + report.trust.falseFlags.honestVsHonest === 0);
		return report;
	} finally {
		for (const p of islands) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
		await server.stop().catch(() => {});
		// Deletes the database made for the run (the restarts reused the first one's).
		if (!opts.databaseEnv) await first.dispose();
		build.remove();
	}
}
