// Island trust against the production server, on PGlite and PostgreSQL: hostile Islands that
// return another picture, a patched picture or a replayed one are caught on probation; one
// that passes probation and then lies on 20 % of its jobs is caught by spot checks; each ends
// quarantined with nothing earned, never got a requester's job on probation, and every
// requester it served ends with the right picture, charged once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, balance, decideIsland, demoParams, ledgerAdmin, requester, setKyc } from '../../harness/broker';
import { until } from '../../harness/until';
import { drawFor } from '../../harness/test-island';
import { honest, islandOf, otherPicture, patched, replay, run, sometimes, type Behaviour, type RunningIsland } from '../../harness/trust-islands';

const K = 3;

describe.each(drivers)('Island trust on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	let reference: RunningIsland;

	beforeAll(async () => {
		server = await startServer(driver, {
			env: {
				RATE_LIMIT_JOBS_PER_MINUTE: '1000000',
				ADMIN_CLAIM_TOKEN,
				TRUST_PROBATION_CANARIES: String(K),
				TRUST_CANARY_POOL: '6',
				// Half of a new Island's jobs are checked, so a liar is caught within a test's length.
				TRUST_NEW_ISLAND_SPOT_CHECK_RATE: '0.5'
			}
		});
		admin = await ledgerAdmin(server.url);
		await setKyc(admin, 'verified');
		// The operator's reference Island: vouched by the admin, honest.
		const island = await islandOf(admin);
		await decideIsland(admin, island.id, 'vouch');
		reference = run(island, honest);
	});
	afterAll(async () => {
		await reference?.stop();
		await server?.dispose();
	});

	async function volunteer() {
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		return { owner, island: await islandOf(owner) };
	}

	const islandView = async (owner: ApiClient, id: string) => (await owner.json('GET', '/api/islands')).body.islands.find((i: { id: string }) => i.id === id);

	/** Every job settled (no check or rerun pending) and showing the honest picture, charged once. */
	async function expectServedRight(client: ApiClient, jobIds: string[], before: number) {
		let cost = 0;
		for (const id of jobIds) {
			const job = await until(`job ${id} settled`, async () => {
				const j = (await client.json('GET', `/api/jobs/${id}`)).body.job;
				return j.status === 'completed' && !['checking', 'disputed', 'redoing'].includes(j.verification) ? j : null;
			});
			cost += job.cost;
			const png = new Uint8Array(await (await client.request('GET', job.imageUrl)).arrayBuffer());
			expect(Buffer.from(png).equals(Buffer.from(drawFor(job.params))), `job ${id} (${job.verification}) shows the right picture`).toBe(true);
		}
		expect(await balance(client)).toEqual({ available: before - cost, held: 0 });
	}

	async function expectCaughtWithNothing(owner: ApiClient, islandId: string) {
		const view = await until('quarantine', async () => {
			const v = await islandView(owner, islandId);
			return v.trust === 'quarantined' ? v : null;
		});
		expect(view.quarantineReason).toBeTruthy();
		expect(view.escrowed).toBe(0);
		expect(await balance(owner)).toEqual({ available: 0, held: 0 });
		const ledger = await admin.json('GET', '/api/admin/ledger/check');
		expect(ledger.body.problems).toEqual([]);
	}

	it.each([
		['another valid picture', otherPicture],
		['a changed 32×32 patch', patched],
		['a result replayed from another job', replay]
	] as [string, Behaviour][])('quarantines an Island on probation that returns %s, and never gives it a requester’s job', async (_, lie) => {
		const alice = await requester(server.url);
		const before = (await balance(alice)).available;
		// Requesters' jobs wait in the queue while the liar is on probation, with the reference Island paused.
		await reference.stop();
		const { owner, island } = await volunteer();
		const waiting: string[] = [];
		for (let i = 0; i < 3; i++) waiting.push((await alice.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: `a job for the queue ${i}` }) } })).body.job.id as string);
		// It may get a canary (once a vouched Island answered some); never one of those jobs.
		const early = await island.claim({ signal: AbortSignal.timeout(1500) }).catch(() => null);
		expect(early === null || !waiting.includes(early.job.id)).toBe(true);
		if (early) await island.result(early.job.id, early.lease.token, lie(early, [early]));
		reference = run(reference.island, honest);
		const liar = run(island, lie);
		await expectCaughtWithNothing(owner, island.id);
		await liar.stop();
		expect(liar.claimed.filter((c) => waiting.includes(c.job.id))).toEqual([]);
		expect((await island.call('POST', '/api/islands/claim', {})).status).toBe(403);
		await expectServedRight(alice, waiting, before);
	});

	it('passes an honest Island after K canaries, then catches it when it lies on 20 % of jobs: reruns, forfeit, right pictures', async () => {
		const { owner, island } = await volunteer();
		const liar = run(island, sometimes(0.2, patched, K));
		const first = await until('probation passed', async () => {
			const v = await islandView(owner, island.id);
			return v.trust !== 'probation' ? v : null;
		});
		expect(first.probation).toEqual({ passed: K, needed: K });
		const bob = await requester(server.url, 'studio');
		const before = (await balance(bob)).available;
		const ids: string[] = [];
		for (let round = 0; round < 40 && (await islandView(owner, island.id)).trust !== 'quarantined'; round++) {
			for (let i = 0; i < 4; i++) ids.push((await bob.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: `a star ${round}.${i}` }) } })).body.job.id);
			await until('round done', async () => (await Promise.all(ids.slice(-4).map(async (id) => (await bob.json('GET', `/api/jobs/${id}`)).body.job.status))).every((s) => s === 'completed'));
		}
		await expectCaughtWithNothing(owner, island.id);
		await liar.stop();
		expect([...liar.answered.values()].some((a) => a.lied)).toBe(true);
		await expectServedRight(bob, ids, before);
	});
});
