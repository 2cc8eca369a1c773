// Graceful shutdown with real processes: on SIGTERM the server hands out no more work (a
// sleeping long-poll answers 204), lets a result upload already in flight finish and settle,
// then exits by itself; nothing is lost. And a lease that expired while no server was
// running is recovered at startup, before the reaper's first tick.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPng } from '../src/lib/server/jobs/png-check';
import { drivers } from './helpers/db';
import { startServer, type TestServer } from '../harness/server';
import { snapshotBuild } from '../harness/build-snapshot';
import { balance, BROKER_ENV, demoParams, ledgerAdmin, requester } from '../harness/broker';
import { makePng, TestIsland } from '../harness/test-island';

/** A result upload sent in two halves, so it is in flight across whatever happens between. */
function slowUpload(url: string, token: string, lease: string, png: Uint8Array) {
	let status: (n: number) => void;
	const answered = new Promise<number>((r) => (status = r));
	const req = http.request(url, {
		method: 'POST',
		headers: { authorization: `Bearer ${token}`, 'x-lease': lease, 'content-type': 'image/png', 'content-length': png.length },
		agent: false
	});
	req.on('response', (res) => (status(res.statusCode ?? 0), res.resume()));
	req.on('error', () => status(0));
	const half = Math.floor(png.length / 2);
	req.write(png.subarray(0, half));
	return { answered, finish: () => req.end(png.subarray(half)) };
}

const exited = (server: TestServer) =>
	new Promise<number | null>((resolve) => {
		if (server.process.exitCode !== null) resolve(server.process.exitCode);
		else server.process.once('exit', (code) => resolve(code));
	});

describe.each(drivers)('graceful shutdown on %s', (driver) => {
	let build: ReturnType<typeof snapshotBuild>;
	beforeAll(() => {
		build = snapshotBuild();
	});
	afterAll(() => build.remove());

	it('on SIGTERM stops handing out claims, finishes the upload in flight, exits, and loses nothing', async () => {
		const env = { ...BROKER_ENV, ...build.env, SHUTDOWN_TIMEOUT: '30' };
		const first = await startServer(driver, { env });
		let server = first;
		try {
			const alice = await requester(server.url);
			const owner = await requester(server.url, null);
			const busy = await TestIsland.register(owner);
			const idle = await TestIsland.register(owner);
			const job = (await alice.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
			const claim = (await busy.claim())!;
			expect(claim.job.id).toBe(job.id);
			// The other Island sleeps in a long-poll (the queue is empty).
			const sleeping = idle.call('POST', '/api/islands/claim', {});
			await new Promise((r) => setTimeout(r, 1000));
			const upload = slowUpload(`${server.url}/api/islands/jobs/${job.id}/result`, busy.token, claim.lease.token, makePng(claim.job.params.width, claim.job.params.height));
			await new Promise((r) => setTimeout(r, 1000));

			const exit = exited(server);
			server.process.kill('SIGTERM');
			// No more work handed out: the sleeping long-poll ends at once with 204.
			expect((await sleeping).status).toBe(204);
			// The upload that was in flight is still accepted and settled.
			upload.finish();
			expect(await upload.answered).toBe(200);
			expect(await exit).toBe(0);

			server = await startServer(driver, { env, databaseEnv: first.databaseEnv, port: Number(new URL(first.url).port) });
			const admin = await ledgerAdmin(server.url);
			const after = (await alice.json('GET', `/api/jobs/${job.id}`)).body.job;
			expect(after).toMatchObject({ status: 'completed', attempts: 1 });
			const png = new Uint8Array(await (await alice.request('GET', after.imageUrl)).arrayBuffer());
			expect(checkPng(png, { width: claim.job.params.width, height: claim.job.params.height }).ok).toBe(true);
			expect(await balance(alice)).toEqual({ available: 100 - job.cost, held: 0 });
			expect((await admin.json('GET', '/api/admin/ledger/check')).body).toMatchObject({ ok: true, problems: [] });
		} finally {
			await server.stop();
			await first.dispose();
		}
	});

	it('recovers, at startup, a lease that expired while the server was down', async () => {
		// The reaper's interval is an hour: only the startup sweep can bring the job back.
		const env = { ...BROKER_ENV, ...build.env, LEASE_FLOOR_MS: '1000', REAP_INTERVAL_MS: String(3600_000) };
		const first = await startServer(driver, { env });
		let server = first;
		try {
			const alice = await requester(server.url);
			const owner = await requester(server.url, null);
			const island = await TestIsland.register(owner);
			const job = (await alice.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
			const claim = (await island.claim())!;
			await server.stop();
			// Down until well past the lease's expiry (the database's clock decides at startup).
			const wait = new Date(claim.lease.expiresAt).getTime() - Date.now() + 1500;
			if (wait > 0) await new Promise((r) => setTimeout(r, wait));

			server = await startServer(driver, { env, databaseEnv: first.databaseEnv, port: Number(new URL(first.url).port) });
			await expect.poll(async () => (await alice.json('GET', `/api/jobs/${job.id}`)).body.job.status, { timeout: 30_000 }).toBe('queued');
			// The old lease is dead (late, not forged); the job goes to the next claim, another
			// owner's (the owner whose Island dropped it never gets it back).
			expect((await island.result(job.id, claim.lease.token, makePng(claim.job.params.width, claim.job.params.height))).status).toBe(409);
			const other = await TestIsland.register(await requester(server.url, null));
			const again = (await other.runOne())!;
			expect(again.job).toMatchObject({ id: job.id, attempt: 2 });
			expect((await alice.json('GET', `/api/jobs/${job.id}`)).body.job.status).toBe('completed');
			expect(await balance(alice)).toEqual({ available: 100 - job.cost, held: 0 });
		} finally {
			await server.stop();
			await first.dispose();
		}
	});
});
