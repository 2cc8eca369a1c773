// The chaos run behind `npm run chaos` (1,000 jobs) and tests/chaos.test.ts (100 jobs): a
// real broker process and real Island processes; Islands are SIGKILLed mid-job and the broker
// is restarted (SIGTERM, then SIGKILL) while jobs run. Then every job must have ended, each
// at most once charged, the ledger balanced, balances equal to what the completed jobs cost
// and every image a valid PNG of its size. With `liars`, trust is on and some Islands lie
// (harness/chaos-trust.ts measures what got through). This file runs the broker, the Islands
// and the schedule; the requesters' side is harness/chaos-load.ts, the checks at the end and
// the verdict harness/chaos-report.ts.
import { ApiClient } from './client';
import { decideIsland, ledgerAdmin, setKyc } from './broker';
import { readDatabase } from './chaos-db';
import { JobWatcher, pool, signUpRequesters, sleep, Submitter, TERMINAL } from './chaos-load';
import { chaosPassed, checkImages, checkRequesterBalances, PER_JOB, type ChaosReport, type PerJob } from './chaos-report';
import { awaitProbation, awaitVerification, brokerEnv, establish, ownersEarnings, TRUST_QUERIES, trustReport, type Role } from './chaos-trust';
import type { Driver } from './postgres';
import { startServer, type TestServer } from './server';
import { snapshotBuild } from './build-snapshot';
import { IslandProcess } from './chaos-island-process';

export type { ChaosReport } from './chaos-report';

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
		const { requesters, purchased } = await signUpRequesters(url, requesterCount, opts.jobs);
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

		// The requesters submit (paused around broker restarts) and watch their jobs.
		const submitter = new Submitter(opts.jobs, requesters, log);
		const tracked = submitter.tracked;
		const watcher = new JobWatcher(tracked, requesters);

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
			await watcher.refresh();
			const done = watcher.ended();
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
					await submitter.pause();
					watcher.serverUp = false;
					const t0 = Date.now();
					await server.stop(event.signal);
					server = await startServer(opts.driver, { env, databaseEnv: first.databaseEnv, port });
					watcher.serverUp = true;
					submitter.resume();
					restartLog.push(`${event.signal} at ${done}/${opts.jobs} ended, back in ${Date.now() - t0} ms`);
					log(`broker restarted (${event.signal}) at ${done}/${opts.jobs} ended, down ${Date.now() - t0} ms`);
				}
				continue;
			}
			if (submitter.submitted && done === tracked.length && events.length === 0) break;
			if (Date.now() - lastLog > 5000) {
				lastLog = Date.now();
				log(`${tracked.length} submitted, ${done} ended`);
			}
			await sleep(250);
		}
		await submitter.done;

		// With trust: spot checks, third runs and reruns finish (bounded), then each job is re-read
		// for the picture it shows now.
		const completed = tracked.filter((t) => t.status === 'completed');
		const pendingAtEnd = trust ? await awaitVerification(async () => (await pool(completed, 4, (t) => watcher.refreshOne(t)), completed), 180_000, log) : 0;

		const { pngProblems, valid, wrong } = await checkImages(completed, requesters, trust);

		// Money: the invariant check, then each requester's balance against its completed jobs.
		const check = (await admin.json('GET', '/api/admin/ledger/check')).body;
		const { requestersMatch, spent, held, expectedSpent } = await checkRequesterBalances(requesters, purchased, completed);

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
				refusedAtSubmit: submitter.refusedAtSubmit,
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
		report.ok = chaosPassed(report, opts.jobs);
		return report;
	} finally {
		for (const p of islands) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
		await server.stop().catch(() => {});
		// Deletes the database made for the run (the restarts reused the first one's).
		if (!opts.databaseEnv) await first.dispose();
		build.remove();
	}
}
