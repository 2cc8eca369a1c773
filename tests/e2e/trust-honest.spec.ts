// Honest Islands are never flagged (issue 15): `npm start`'s built-in headless Island
// (onnxruntime-node, vouched: its pictures are the references) and a volunteer's /island tab
// on WASM run 200 requesters' jobs together with trust on. The tab passes probation on real
// canaries, then every one of its requester jobs is spot-checked (re-run by the node Island
// and compared tile by tile): the cross-backend comparison that could false-flag an honest
// Island. Nothing may end replaced, disputed or quarantined.
import { randomInt } from 'node:crypto';
import { ApiClient } from '../../harness/client';
import { startServer, type TestServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, balance, demoParams, ledgerAdmin, requester } from '../../harness/broker';
import { expect, test as base } from './fixtures';
import { openIsland } from './island-fixtures';

const JOBS = 200;
/** The job list answers at most 100 per call: each requester submits a share. */
const REQUESTERS = 2;
const PROBATION = 3;

const test = base.extend<object, { server: TestServer }>({
	server: [
		async ({}, use) => {
			const server = await startServer('pglite', {
				// server/start.js, as `npm start` runs it: the built-in Island beside the server.
				builtinIsland: true,
				env: {
					ADMIN_CLAIM_TOKEN,
					RATE_LIMIT_JOBS_PER_MINUTE: '1000000',
					// Each requester queues its 100 jobs at once.
					MAX_ACTIVE_JOBS_PER_USER: '1000',
					TRUST_PROBATION_CANARIES: String(PROBATION),
					// Every result of the (new) browser Island is re-run by another owner's Island.
					TRUST_NEW_ISLAND_SPOT_CHECK_RATE: '1',
					TRUST_SPOT_CHECK_RATE: '1',
					// Enough canaries for one probation: each is a reference run on the node Island first.
					TRUST_CANARY_POOL: String(PROBATION + 1)
				}
			});
			await use(server);
			await server.dispose();
		},
		{ scope: 'worker', timeout: 120_000 }
	]
});

const COLOURS = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'pink', 'white', 'black'];
const SHAPES = ['circle', 'square', 'triangle', 'star', 'heart', 'diamond', 'cross', 'ring'];
const PLACES = ['', ' at the top', ' at the bottom', ' on the left', ' on the right', ' in the centre'];

/** The smallest, cheapest job (demoParams), with a prompt and seed of its own. */
function jobParams(i: number) {
	const colour = COLOURS[i % COLOURS.length];
	const background = COLOURS[(i * 3 + 1) % COLOURS.length] === colour ? 'grey' : COLOURS[(i * 3 + 1) % COLOURS.length];
	const prompt = `a ${colour} ${SHAPES[(i >> 1) % SHAPES.length]}${PLACES[i % PLACES.length]} on a ${background} background`;
	return demoParams({ prompt, seed: randomInt(0, 2 ** 32 - 1) });
}

interface Job {
	id: string;
	status: string;
	cost: number;
	verification: string;
}

/** Rows of the server's PGlite database, read after it stopped (as harness/chaos.ts does). */
async function queryStopped<Row>(server: TestServer, query: string): Promise<Row[]> {
	const { PGlite } = await import('@electric-sql/pglite');
	const db = await PGlite.create(server.databaseEnv.DATA_DIR);
	try {
		return (await db.query<Row>(query)).rows;
	} finally {
		await db.close();
	}
}

test('honest node and browser-WASM Islands run 200 jobs with trust on and are never flagged', async ({ page, server }, testInfo) => {
	test.setTimeout(25 * 60_000);
	// The built-in Island is up (it computes the canaries' known answers).
	await expect.poll(() => server.output(), { timeout: 60_000 }).toMatch(/ready, claiming/);
	const admin = await ledgerAdmin(server.url);

	// A verified volunteer's tab on WASM: on probation until it has drawn PROBATION canaries
	// exactly as the node Island did. Before any requester job is queued, so its canaries'
	// reference runs aren't behind the requesters' jobs in the queue.
	await openIsland(page, 'wasm');
	const probationStarted = Date.now();
	await page.getByRole('button', { name: 'Start earning' }).click();
	await expect(page.getByTestId('island-status')).toHaveText('Working', { timeout: 60_000 });
	type IslandView = { id: string; trust: string; probation: { passed: number; needed: number }; quarantineReason: string | null; jobsDone: number };
	const islands = async () => {
		const r = await page.request.get('/api/islands');
		if (r.status() !== 200) throw new Error(`GET /api/islands: ${r.status()}`);
		return (await r.json()).islands as IslandView[];
	};
	const island = async () => {
		const all = await islands();
		expect(all).toHaveLength(1);
		return all[0];
	};
	// The tab registers its Island as it starts.
	await expect.poll(async () => (await islands())[0]?.trust ?? 'not registered', { timeout: 5 * 60_000, intervals: [1000] }).toBe('trusted');
	const browserIsland = await island();
	const probationSeconds = Math.round((Date.now() - probationStarted) / 1000);
	expect(browserIsland.probation).toEqual({ passed: PROBATION, needed: PROBATION });

	// 200 requesters' jobs through the API, in the order they are queued.
	const requesters = await Promise.all(Array.from({ length: REQUESTERS }, () => requester(server.url, 'studio')));
	const before = await Promise.all(requesters.map(balance));
	const started = Date.now();
	const submitted: { client: ApiClient; job: Job }[] = [];
	for (let i = 0; i < JOBS; i += 10) {
		const batch = await Promise.all(
			Array.from({ length: Math.min(10, JOBS - i) }, async (_, k) => {
				const client = requesters[(i + k) % REQUESTERS];
				const r = await client.json('POST', '/api/jobs', { json: { params: jobParams(i + k) } });
				expect(r.status, JSON.stringify(r.body)).toBe(201);
				return { client, job: r.body.job as Job };
			})
		);
		submitted.push(...batch);
	}
	expect(new Set(submitted.map((s) => s.job.id)).size).toBe(JOBS);

	// Until every job is done and every check of it has come back.
	const listAll = async () => (await Promise.all(requesters.map(async (c) => (await c.json('GET', '/api/jobs?limit=100')).body.jobs as Job[]))).flat();
	const unsettled = (j: Job) => j.status === 'queued' || j.status === 'running' || ['checking', 'disputed', 'redoing'].includes(j.verification);
	let jobs: Job[] = [];
	let lastLog = Date.now();
	for (;;) {
		jobs = await listAll();
		expect(jobs).toHaveLength(JOBS);
		const me = await island();
		// A quarantine is a false flag: fail at once, with the broker's reason.
		expect(me.trust, me.quarantineReason ?? '').toBe('trusted');
		if (!jobs.some(unsettled)) break;
		if (Date.now() - lastLog > 30_000) {
			lastLog = Date.now();
			const by = (k: keyof Job) => [...new Set(jobs.map((j) => String(j[k])))].map((v) => `${v} ${jobs.filter((j) => String(j[k]) === v).length}`).join(', ');
			console.log(`[trust-honest] ${Math.round((Date.now() - started) / 1000)} s: ${by('status')}; ${by('verification')}; browser jobs done ${me.jobsDone}`);
		}
		await new Promise((r) => setTimeout(r, 2000));
	}
	const seconds = Math.round((Date.now() - started) / 1000);

	// Zero false flags: every job completed, none replaced or disputed; the browser's were all confirmed.
	expect(jobs.filter((j) => j.status !== 'completed')).toEqual([]);
	expect(jobs.filter((j) => j.verification !== 'confirmed' && j.verification !== 'unchecked')).toEqual([]);
	const confirmed = jobs.filter((j) => j.verification === 'confirmed').length;

	const after = await island();
	expect(after.trust).toBe('trusted');
	expect(after.quarantineReason).toBeNull();
	expect(after.probation).toEqual({ passed: PROBATION, needed: PROBATION });
	// The tab runs only requesters' jobs and its canaries: node's pictures are never checked.
	const browserJobs = after.jobsDone - PROBATION;
	// Every one of its requester jobs was checked (rate 1) and confirmed; the node Island's are unchecked (vouched).
	expect(confirmed).toBe(browserJobs);
	// Its share is the run's length over its job time (both Islands always busy, oldest job
	// first): about one in ten here, since WASM in the tab is that much slower than node.
	expect(browserJobs).toBeGreaterThan(0);

	// Requesters paid exactly their completed jobs.
	for (const [i, c] of requesters.entries()) {
		const cost = submitted.filter((s) => s.client === c).reduce((sum, s) => sum + s.job.cost, 0);
		expect(await balance(c)).toEqual({ available: before[i].available - cost, held: 0 });
	}

	// The admin has no Island to review, and the ledger holds.
	const adminPage = await admin.request('GET', '/admin');
	expect(adminPage.status).toBe(200);
	const html = await adminPage.text();
	expect(html).toContain('data-testid="admin-under-review"');
	expect(html).toContain('No Island is quarantined or suspicious.');
	expect(html).not.toContain('data-testid="review-island"');
	const ledger = await admin.json('GET', '/api/admin/ledger/check');
	expect(ledger.status).toBe(200);
	expect(ledger.body.problems).toEqual([]);

	// The comparisons themselves are only in the database: read it once the server stopped.
	await page.getByRole('button', { name: 'Stop' }).click();
	await server.stop();
	const checks = await queryStopped<{ kind: string; island_id: string; n: number; same: number; max: number | null }>(
		server,
		`select kind, island_id, count(*)::int as n, count(*) filter (where same)::int as same, max(distance) as max from trust_checks group by kind, island_id`
	);
	const byIsland = await queryStopped<{ island_id: string; kind: string; n: number }>(
		server,
		`select island_id, kind, count(*)::int as n from jobs where status = 'completed' group by island_id, kind order by island_id, kind`
	);
	expect(checks.every((c) => c.island_id === browserIsland.id)).toBe(true);
	expect(checks.every((c) => c.same === c.n)).toBe(true);
	const canaryChecks = checks.find((c) => c.kind === 'canary');
	const spotChecks = checks.find((c) => c.kind === 'check');
	expect(canaryChecks?.n).toBe(PROBATION);
	expect(spotChecks?.n ?? 0).toBe(browserJobs);
	expect(checks.find((c) => c.kind === 'dispute')).toBeUndefined();
	const userJobs = (id: string) => byIsland.find((r) => r.island_id === id && r.kind === 'user')?.n ?? 0;
	const nodeId = byIsland.find((r) => r.island_id !== browserIsland.id && r.kind === 'user')?.island_id;
	expect(userJobs(browserIsland.id)).toBe(browserJobs);
	expect(userJobs(browserIsland.id) + (nodeId ? userJobs(nodeId) : 0)).toBe(JOBS);

	const worst = Math.max(canaryChecks?.max ?? 0, spotChecks?.max ?? 0);
	const summary =
		`${JOBS} jobs in ${seconds} s: node Island ${JOBS - browserJobs}, browser WASM ${browserJobs} (+${PROBATION} canaries passed in ${probationSeconds} s); ` +
		`spot checks confirmed ${spotChecks?.same ?? 0}/${spotChecks?.n ?? 0}; false flags 0; ` +
		`largest tile distance ${worst.toExponential(2)} (checks ${(spotChecks?.max ?? 0).toExponential(2)}, canaries ${(canaryChecks?.max ?? 0).toExponential(2)}; threshold 2)`;
	console.log(`[trust-honest] ${summary}`);
	console.log(`[trust-honest] completed jobs by Island and kind: ${byIsland.map((r) => `${r.island_id === browserIsland.id ? 'browser' : r.island_id} ${r.kind} ${r.n}`).join(', ')}`);
	testInfo.annotations.push({ type: 'summary', description: summary });
	// Honest cross-backend pictures sit far under the threshold (docs/trust.md: ≤ 0.029).
	expect(worst).toBeLessThan(0.2);
});
