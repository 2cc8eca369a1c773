// (c) A volunteer's /island tab goes away mid-job: the job goes back to the queue (at once,
// through the tab's keepalive hand-back, or when its lease expires and the reaper requeues it),
// a headless Island finishes it, and the requester is charged exactly once.
import { setKyc } from '../../harness/broker';
import type { Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../../harness/client';
import { balance, expect, jobOf, ledgerCheck, openIsland, requester, SMALL_JOB, submitJob, test, testWithServerEnv, waitForJob } from './island-fixtures';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The real headless Island (`npm run island`), for a second user, reading the model from disk. */
async function startHeadlessIsland(baseUrl: string): Promise<{ owner: ApiClient; child: ChildProcess; log: () => string }> {
	const owner = new ApiClient(baseUrl);
	await owner.signUp();
	await setKyc(owner, 'verified');
	const r = await owner.json('POST', '/api/islands', { json: { name: 'headless helper' } });
	expect(r.status).toBe(201);
	const child = spawn(process.execPath, ['build/island/index.js', '--url', baseUrl, '--model', 'static/models/demo/manifest.json'], {
		cwd: root,
		env: { ...process.env, ISLAND_TOKEN: r.body.token, ORT_DISABLE_TELEMETRY: '1', ISLAND_STOP_GRACE_MS: '2000' },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let out = '';
	child.stdout?.on('data', (d) => (out += d));
	child.stderr?.on('data', (d) => (out += d));
	return { owner, child, log: () => out };
}


/**
 * A volunteer's tab takes a 512×512 job and is closed by `closeTab` mid-job; a headless Island
 * started afterwards must finish it. Returns the requester's client and the job for checks.
 */
async function closeMidJob(page: Page, server: { url: string }, closeTab: () => Promise<void>, afterClose: (job: { id: string }, alice: ApiClient) => Promise<void> = async () => {}) {
	const context = page.context();
	await openIsland(page, 'wasm');
	await page.getByRole('button', { name: 'Start earning' }).click();
	await expect(page.getByTestId('island-status')).toHaveText('Working', { timeout: 60_000 });

	const alice = await requester(server.url);
	const before = await balance(alice);
	// Big enough that the tab is still denoising when it is closed (its lease: ~94 s by default).
	const job = await submitJob(alice, { ...SMALL_JOB, width: 512, height: 512, steps: 12 });
	await expect(page.getByTestId('current-job')).toBeVisible({ timeout: 60_000 });
	await expect.poll(async () => Number(await page.getByTestId('job-step').textContent()), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
	await closeTab();
	await afterClose(job, alice);

	const helper = await startHeadlessIsland(server.url);
	try {
		const done = await waitForJob(alice, job.id, ['completed', 'failed'], 200_000);
		expect(done.status, helper.log()).toBe('completed');
		expect(done.attempts).toBe(2);
		expect(done.imageUrl).toBeTruthy();
	} catch (e) {
		console.log(`headless Island log:\n${helper.log()}\njob: ${JSON.stringify(await jobOf(alice, job.id))}`);
		throw e;
	} finally {
		helper.child.kill('SIGTERM');
	}

	// Charged once: the requester paid the cost one time, the headless Island's owner earned
	// its share, the volunteer whose tab closed earned nothing, and the ledger balances.
	expect(await balance(alice)).toEqual({ available: before.available - job.cost, held: 0 });
	// Its share waits in its Island's escrow (docs/trust.md), not yet in the owner's balance.
	expect((await balance(helper.owner)).available).toBe(0);
	const [helperIsland] = (await helper.owner.json('GET', '/api/islands')).body.islands;
	expect(helperIsland.escrowed).toBe(Math.floor(job.cost * 0.8));
	const volunteer = await (await context.request.get(`${server.url}/api/me`)).json();
	expect(volunteer.balance.available).toBe(0);
	expect((await ledgerCheck(server.url)).problems).toEqual([]);
}

// Leases of 15 s instead of this job's ~94 s: what is tested is that an expired lease brings
// the job back, not how long the lease is (the reaper sweeps every 5 s).
const SHORT_LEASE_MS = '15000';
const withShortLeases = testWithServerEnv({ LEASE_FLOOR_MS: SHORT_LEASE_MS, LEASE_CEILING_MS: SHORT_LEASE_MS });

withShortLeases('a tab killed mid-job: its lease expires, another Island completes the job, charged once', async ({ page, server }) => {
	// Lease expiry plus the reaper's sweep bring the job back.
	withShortLeases.setTimeout(180_000);
	// The renderer crashes: no unload handler runs, as when the browser crashes or the machine
	// sleeps. (page.close() sometimes still let pagehide hand the job back, and this test then
	// saw it queued at once.)
	const crash = async () => {
		const cdp = await page.context().newCDPSession(page);
		const crashed = page.waitForEvent('crash', { timeout: 15_000 });
		// Never answered: the session dies with the renderer.
		void cdp.send('Page.crash').catch(() => {});
		await crashed;
		await page.close().catch(() => {});
	};
	await closeMidJob(page, server, crash, async (job, alice) => {
		expect((await jobOf(alice, job.id)).status).toBe('running');
	});
});

test('leaving /island mid-job hands the job back at once; another Island completes it, charged once', async ({ page, server }) => {
	test.setTimeout(240_000);
	// Leaving the page (here an in-app link; a closed tab runs the same hand-back from pagehide)
	// posts /fail with keepalive: the job is back in the queue without waiting ~94 s for the lease.
	await closeMidJob(page, server, async () => {
		await page.getByRole('link', { name: 'Credits', exact: true }).click();
		await page.waitForURL('**/credits');
	}, async (job, alice) => {
		await expect.poll(async () => (await jobOf(alice, job.id)).status, { timeout: 30_000 }).toBe('queued');
	});
});
