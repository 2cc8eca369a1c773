// The measurement of `npm run bench:broker` (scripts/bench-broker.ts loads it through Vite).
import { loadavg } from 'node:os';
import { eq } from 'drizzle-orm';
import { openDatabase, type DatabaseHandle } from '../src/lib/server/db/client';
import { users } from '../src/lib/server/db/schema';
import { createUser } from '../src/lib/server/auth/users';
import { purchase } from '../src/lib/server/ledger';
import { claimOnce, completeJob, createBroker, registerIsland, submitJob } from '../src/lib/server/jobs';
import { createPostgresDatabase } from '../harness/postgres';
import { demoParams, TRUST_OFF } from '../harness/broker';
import { makePng } from '../harness/test-island';

export const STEPS = ['submit', 'claim', 'result', 'empty claim'] as const;
export type Step = (typeof STEPS)[number];
export interface BrokerCosts {
	driver: string;
	jobs: number;
	/** Per job: CPU ms of this process and statements sent (BEGIN/COMMIT too on PostgreSQL). */
	steps: Record<Step, { cpuMs: number; statements: number }>;
	/** The steps together: one whole job. */
	job: { cpuMs: number; statements: number };
	loadavg: [number, number];
}

const WARM_UP = 200;

async function open(driver: string, pgUrl: string | undefined) {
	let n = 0;
	const logger = { logQuery: () => void n++ };
	if (driver === 'pglite') {
		const handle = await openDatabase({ dataDir: 'memory://', logger });
		return { handle, statements: () => n, drop: async () => {} };
	}
	const created = await createPostgresDatabase(pgUrl);
	const handle: DatabaseHandle = await openDatabase({ databaseUrl: created.url, logger });
	return { handle, statements: () => n, drop: created.drop };
}

const cpuMs = () => {
	const u = process.cpuUsage();
	return (u.user + u.system) / 1000;
};

/** One job after another through the broker's own functions, each step timed and counted. */
export async function measure(driver: string, jobs: number, pgUrl?: string): Promise<BrokerCosts> {
	// The dispatch alone: no probation or spot checks (trust has its own tests), and one
	// requester may keep every job of the run in flight.
	Object.assign(process.env, TRUST_OFF, { MAX_ACTIVE_JOBS_PER_USER: '1000000' });
	const { handle, statements, drop } = await open(driver, pgUrl);
	const broker = await createBroker(handle);
	try {
		const verified = async (email: string) => {
			const row = (await createUser(handle.db, email, 'x'))!;
			await handle.db.update(users).set({ kycStatus: 'verified' }).where(eq(users.id, row.id));
			return row;
		};
		const requesterRow = await verified('requester@example.com');
		await handle.db.transaction((tx) => purchase(tx, requesterRow.id, (jobs + WARM_UP) * 100, 'bench'));
		const requester = { id: requesterRow.id, email: requesterRow.email, kycStatus: 'verified' as const, isAdmin: false };
		const owner = await verified('owner@example.com');
		const { island } = await registerIsland(handle.db, owner.id, { name: 'bench', models: ['demo'], maxPixels: 512 * 512 });
		const claimant = { id: island.id, userId: owner.id, ownerId: owner.id, models: ['demo'], maxPixels: 512 * 512, probation: false, vouched: false };
		const params = demoParams();
		const png = makePng(params.width, params.height);
		const totals = Object.fromEntries(STEPS.map((s) => [s, { cpuMs: 0, statements: 0 }])) as BrokerCosts['steps'];
		const step = async <T>(name: Step, measured: boolean, fn: () => Promise<T>): Promise<T> => {
			const [c, s] = [cpuMs(), statements()];
			const out = await fn();
			if (measured) {
				totals[name].cpuMs += cpuMs() - c;
				totals[name].statements += statements() - s;
			}
			return out;
		};
		const loadBefore = loadavg()[0];
		for (let i = 0; i < WARM_UP + jobs; i++) {
			const measured = i >= WARM_UP;
			const job = await step('submit', measured, () => submitJob(broker, requester, params));
			const { claim } = await step('claim', measured, () => claimOnce(broker, claimant));
			if (claim?.job.id !== job.id) throw new Error('the claim did not take the job just submitted');
			await step('result', measured, () => completeJob(broker, claimant, job.id, claim.lease.token, png));
			// The Island back from its result: the claim route's unlocked pre-check, a long-poll's first look.
			await step('empty claim', measured, () => claimOnce(broker, claimant, { precheck: true }));
		}
		for (const s of STEPS) totals[s] = { cpuMs: totals[s].cpuMs / jobs, statements: totals[s].statements / jobs };
		const job = { cpuMs: STEPS.reduce((sum, s) => sum + totals[s].cpuMs, 0), statements: STEPS.reduce((sum, s) => sum + totals[s].statements, 0) };
		return { driver, jobs, steps: totals, job, loadavg: [loadBefore, loadavg()[0]] };
	} finally {
		await broker.close();
		await handle.close();
		await drop();
	}
}
