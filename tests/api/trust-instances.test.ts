// Island trust across two broker instances on one PostgreSQL: the reference Island and the
// honest checker claim on A, a liar on B. Canaries, spot checks, the third run and the
// quarantine's reruns cross instances through the shared database and LISTEN/NOTIFY.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { startServer, type TestServer } from '../../harness/server';
import { ADMIN_CLAIM_TOKEN, balance, decideIsland, demoParams, ledgerAdmin, requester, setKyc } from '../../harness/broker';
import { until } from '../../harness/until';
import { drawFor, TestIsland } from '../../harness/test-island';
import { honest, islandOf, patched, run, sometimes, type RunningIsland } from '../../harness/trust-islands';

const K = 2;

describe.skipIf(!process.env.TEST_DATABASE_URL)('Island trust across two instances on one PostgreSQL', () => {
	let a: TestServer;
	let b: TestServer;
	let admin: ApiClient;
	const running: RunningIsland[] = [];
	beforeAll(async () => {
		const env = {
			RATE_LIMIT_JOBS_PER_MINUTE: '1000000',
			ADMIN_CLAIM_TOKEN,
			TRUST_PROBATION_CANARIES: String(K),
			TRUST_CANARY_POOL: '4',
			// Every young Island's job is checked, so the liar is caught within a few jobs.
			TRUST_NEW_ISLAND_SPOT_CHECK_RATE: '1'
		};
		a = await startServer('postgres', { env });
		b = await startServer('postgres', { env, databaseEnv: a.databaseEnv });
		admin = await ledgerAdmin(a.url);
		await setKyc(admin, 'verified');
	});
	afterAll(async () => {
		await Promise.all(running.map((r) => r.stop()));
		expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
		await b?.stop();
		await a?.dispose();
	});

	async function volunteer(server: TestServer) {
		const owner = new ApiClient(a.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		const registered = await islandOf(owner);
		// The same Island, talking to `server`.
		return { owner, island: new TestIsland(server.url, registered.token, registered.id) };
	}
	const trustOf = async (owner: ApiClient, id: string) =>
		(await owner.json('GET', '/api/islands')).body.islands.find((i: { id: string }) => i.id === id);

	it('catches a liar on B that honest Islands on A check, and redraws what it delivered', async () => {
		const reference = await islandOf(admin);
		await decideIsland(admin, reference.id, 'vouch');
		running.push(run(reference, honest));
		const checker = await volunteer(a);
		running.push(run(checker.island, honest));
		const liar = await volunteer(b);
		const lying = run(liar.island, sometimes(0.5, patched, K));
		running.push(lying);
		for (const { owner, island } of [checker, liar]) {
			await until('probation passed', async () => (await trustOf(owner, island.id)).trust === 'trusted');
		}

		const carol = await requester(a.url, 'studio');
		const before = (await balance(carol)).available;
		const ids: string[] = [];
		for (let i = 0; i < 40 && (await trustOf(liar.owner, liar.island.id)).trust !== 'quarantined'; i++) {
			ids.push((await carol.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: `a ring ${i}` }) } })).body.job.id);
			await until('job done', async () => (await carol.json('GET', `/api/jobs/${ids.at(-1)}`)).body.job.status === 'completed');
		}
		const view = await until('quarantine', async () => {
			const v = await trustOf(liar.owner, liar.island.id);
			return v.trust === 'quarantined' ? v : null;
		});
		expect([...lying.answered.values()].some((x) => x.lied)).toBe(true);
		expect(view.escrowed).toBe(0);
		expect(await balance(liar.owner)).toEqual({ available: 0, held: 0 });
		expect((await trustOf(checker.owner, checker.island.id)).trust).toBe('trusted');

		// Every requester's picture is the honest one once checks and reruns settle, charged once.
		let cost = 0;
		for (const id of ids) {
			const job = await until(`job ${id} settled`, async () => {
				const j = (await carol.json('GET', `/api/jobs/${id}`)).body.job;
				return !['checking', 'disputed', 'redoing'].includes(j.verification) ? j : null;
			});
			cost += job.cost;
			const png = new Uint8Array(await (await carol.request('GET', job.imageUrl)).arrayBuffer());
			expect(Buffer.from(png).equals(Buffer.from(drawFor(job.params))), `job ${id} (${job.verification})`).toBe(true);
		}
		expect(await balance(carol)).toEqual({ available: before - cost, held: 0 });
	});
});
