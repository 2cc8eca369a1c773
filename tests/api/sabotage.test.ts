// Sabotage, as an attacker tried it: many workers of one account claim jobs and fail them at
// once, to burn other people's attempts. With one lease per Island, no job handed back to an
// owner who failed it, and attempts counted by owner, every other user's job still completes
// while one honest Island is online.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { BROKER_ENV, demoParams, ledgerAdmin, requester, setKyc } from '../../harness/broker';
import { TestIsland } from '../../harness/test-island';

describe.each(drivers)('sabotage on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	beforeAll(async () => {
		// Trust's probation off: the saboteur's Islands take requesters' jobs at once, the
		// strongest form of the attack (with probation they would only ever see canaries).
		// Alice queues five jobs at once for the attacker to fail, past the default limit of 4 in flight.
		server = await startServer(driver, { env: { ...BROKER_ENV, MAX_ACTIVE_JOBS_PER_USER: '10' } });
		admin = await ledgerAdmin(server.url);
	});
	afterAll(() => server?.dispose());

	it('refuses an unverified account an Island, and one that claims and fails makes no other user’s job fail', async () => {
		const stranger = new ApiClient(server.url);
		await stranger.signUp();
		expect((await stranger.json('POST', '/api/islands', { json: { name: 'saboteur' } })).status).toBe(403);

		const attacker = new ApiClient(server.url);
		await attacker.signUp();
		await setKyc(attacker, 'verified');
		const islands = await Promise.all([1, 2, 3].map(() => TestIsland.register(attacker)));
		const stop = new AbortController();
		const refusals: number[] = [];
		let failed = 0;
		// 8 workers per Island, each looping claim → immediate fail.
		const workers = islands.flatMap((island) =>
			Array.from({ length: 8 }, async () => {
				while (!stop.signal.aborted) {
					const r = await island.call('POST', '/api/islands/claim', {}, { signal: stop.signal }).catch(() => null);
					if (!r) return;
					if (r.status === 200) {
						const f = await island.fail(r.body.job.id, r.body.lease.token, 'sabotage');
						if (f.status === 200) failed++;
					} else if (r.status !== 204) {
						refusals.push(r.status);
						await new Promise((res) => setTimeout(res, 50));
					}
				}
			})
		);

		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		const honest = await TestIsland.register(owner);
		const alice = await requester(server.url);
		const ids: string[] = [];
		for (let i = 0; i < 5; i++) ids.push((await alice.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: `a green heart ${i}` }) } })).body.job.id);
		const done = new Set<string>();
		while (done.size < ids.length) {
			const claim = await honest.claim();
			if (claim) {
				await honest.complete(claim);
				done.add(claim.job.id);
			}
		}
		stop.abort();
		await Promise.all(workers);

		for (const id of ids) {
			const job = (await alice.json('GET', `/api/jobs/${id}`)).body.job;
			expect(job.status).toBe('completed');
			// The attacker had each job at most once, whichever of its Islands took it.
			expect(job.attempts).toBeLessThanOrEqual(2);
		}
		expect(failed).toBeLessThanOrEqual(ids.length);
		// Its other workers were refused: two long-polls per Island (429), one lease (409).
		expect(refusals.length).toBeGreaterThan(0);
		expect(refusals.every((s) => s === 409 || s === 429)).toBe(true);
		expect((await admin.json('GET', '/api/admin/ledger/check')).body.problems).toEqual([]);
	});

	it('holds one lease per Island: a second claim while it runs a job is 409', async () => {
		const owner = await requester(server.url, null);
		const island = await TestIsland.register(owner);
		const alice = await requester(server.url);
		for (let i = 0; i < 2; i++) await alice.json('POST', '/api/jobs', { json: { params: demoParams({ prompt: `a blue ring ${i}` }) } });
		const first = (await island.claim())!;
		const second = await island.call('POST', '/api/islands/claim', {});
		expect([second.status, second.body.error.code]).toEqual([409, 'lease_limit']);
		await island.complete(first);
		expect(await island.runOne()).not.toBeNull();
	});
});
