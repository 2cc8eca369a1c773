// Every way a job ends without an image stores its failure code, and both the job view and
// the SSE `failed` event carry it (with the attempts): the page words the code and never
// reads the reason text back. Leases are short here so the reaper's path runs in seconds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../harness/client';
import { drivers } from '../helpers/db';
import { startServer, type TestServer } from '../../harness/server';
import { BROKER_ENV, demoParams, ledgerAdmin, requester, setKyc } from '../../harness/broker';
import { SseReader } from '../helpers/sse';
import { TestIsland } from '../../harness/test-island';

const LEASE_MS = 3_000;

describe.each(drivers)('job failure codes on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	let island: TestIsland;
	beforeAll(async () => {
		server = await startServer(driver, {
			env: { ...BROKER_ENV, LEASE_FLOOR_MS: String(LEASE_MS), LEASE_CEILING_MS: String(LEASE_MS), REAP_INTERVAL_MS: '200' }
		});
		admin = await ledgerAdmin(server.url);
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		island = await TestIsland.register(owner);
	});
	afterAll(async () => {
		expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
		await server.dispose();
	});

	/** A submitted job and its event stream, read up to the first snapshot. */
	const submitAndWatch = async () => {
		const client = await requester(server.url);
		const job = (await client.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		const sse = new SseReader(await client.request('GET', `/api/jobs/${job.id}/events`));
		expect((await sse.next())!.event).toBe('status');
		return { client, job, sse };
	};
	/** The `failed` event, and the job as GET /api/jobs/:id then shows it. */
	const outcome = async (client: ApiClient, id: string, sse: SseReader) => {
		const event = (await sse.until('failed')).at(-1)!.data;
		await sse.close();
		const view = (await client.json('GET', `/api/jobs/${id}`)).body.job;
		return { event, view };
	};
	/** A verified volunteer's Island: a job one owner gave up goes to another owner's. */
	const newIsland = async () => {
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		return TestIsland.register(owner);
	};
	/** Three owners' Islands claim `id` in turn, each ending its attempt with `end`. */
	const failThrice = async (id: string, end: (island: TestIsland, claim: { lease: { token: string } }) => Promise<unknown>) => {
		for (let attempt = 1; attempt <= 3; attempt++) {
			const island = await newIsland();
			const claim = (await island.claim())!;
			expect(claim.job).toMatchObject({ id, attempt });
			await end(island, claim);
		}
	};

	it('island_error: the Island reported a failure; its own reason is kept as the detail', async () => {
		const { client, job, sse } = await submitAndWatch();
		await failThrice(job.id, (island, c) => island.fail(job.id, c.lease.token, 'out of GPU memory'));
		const { event, view } = await outcome(client, job.id, sse);
		expect(event).toEqual({ status: 'failed', failureCode: 'island_error', reason: 'out of GPU memory', attempts: 3, refunded: job.cost });
		expect(view).toMatchObject({ status: 'failed', failureCode: 'island_error', failureReason: 'out of GPU memory', attempts: 3 });
	});

	it('invalid_image: the PNG was refused each time', async () => {
		const { client, job, sse } = await submitAndWatch();
		await failThrice(job.id, async (island, c) => {
			const r = await island.result(job.id, c.lease.token, new TextEncoder().encode('not a png at all'));
			expect(r.status).toBe(422);
		});
		const { event, view } = await outcome(client, job.id, sse);
		expect(event).toMatchObject({ status: 'failed', failureCode: 'invalid_image', attempts: 3, refunded: job.cost });
		expect(view).toMatchObject({ status: 'failed', failureCode: 'invalid_image', attempts: 3 });
		expect(view.failureReason).toBe(event.reason);
	});

	it('island_unresponsive: the lease expired on every attempt', async () => {
		const { client, job, sse } = await submitAndWatch();
		// The Island claims and goes silent; the reaper requeues, and the claim after wakes on it.
		await failThrice(job.id, async () => {});
		const { event, view } = await outcome(client, job.id, sse);
		expect(event).toMatchObject({ status: 'failed', failureCode: 'island_unresponsive', attempts: 3, refunded: job.cost });
		expect(view).toMatchObject({ status: 'failed', failureCode: 'island_unresponsive', attempts: 3 });
	}, 30_000);

	it('cancelled: the requester cancelled (queued or running)', async () => {
		const { client, job, sse } = await submitAndWatch();
		expect((await island.claim())!.job.id).toBe(job.id);
		await client.json('DELETE', `/api/jobs/${job.id}`);
		const { event, view } = await outcome(client, job.id, sse);
		expect(event).toMatchObject({ status: 'cancelled', failureCode: 'cancelled', attempts: 1, refunded: job.cost });
		expect(view).toMatchObject({ status: 'cancelled', failureCode: 'cancelled' });
	});

	it('keeps the code null while a job is fine, and after it completes', async () => {
		const client = await requester(server.url);
		const job = (await client.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		expect(job.failureCode).toBeNull();
		await island.runOne();
		expect((await client.json('GET', `/api/jobs/${job.id}`)).body.job).toMatchObject({ status: 'completed', failureCode: null, failureReason: null });
	});
});
