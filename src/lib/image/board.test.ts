import { describe, expect, it } from 'vitest';
import { JobBoard } from './board.svelte';
import { FakeEventSource, jobFixture } from '../../../tests/helpers/fake-event-source';
import type { JobView, SubmitResponse } from '$lib/api/jobs';

const params = { prompt: 'a red circle', model: 'demo', width: 256, height: 256, steps: 4 };
const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
	(async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })) as typeof fetch;
const error = (code: string, message: string) => ({ error: { code, message } });

/** The 201 of a request for `count` images with seeds 9, 10, …, each job its own hold. */
function batch(count: number, id = 'b'): SubmitResponse {
	const jobs = Array.from({ length: count }, (_, i) =>
		jobFixture({ id: `${id}${i}`, batchId: `${id}0`, batchIndex: i, params: { ...params, seed: 9 + i, guidance: 5 } })
	);
	return { job: jobs[0], jobs, batch: { id: `${id}0`, count, cost: 10 * count } };
}

describe('JobBoard.submit', () => {
	it('turns each refusal into words to act on, keeps the request for Try again, and asks the page to refresh', async () => {
		const table: [number, unknown, Record<string, string>, string, RegExp][] = [
			[403, error('kyc_required', 'x'), {}, 'kyc_required', /Verify your identity/],
			[402, error('insufficient_credits', 'These 3 images cost 30 credits (10 each); buy a pack to top up your balance.'), {}, 'insufficient_credits', /cost 30 credits.*Nothing was charged/],
			[429, error('rate_limited', 'Too many requests.'), { 'retry-after': '17' }, 'rate_limited', /too fast\. Wait 17 seconds/],
			[429, error('too_many_jobs', 'You have 4 images queued or running, the most allowed at once (4). Wait for one to finish, or cancel one.'), { 'retry-after': '10' }, 'too_many_jobs', /most allowed at once \(4\)\. Wait for one to finish, or cancel one\. Nothing was charged\.$/],
			[422, error('prompt_rejected', "This prompt asks for something Archipelago doesn't generate."), {}, 'prompt_rejected', /doesn't generate/],
			[500, error('internal', 'boom'), {}, 'internal', /on our side\. Nothing was charged/]
		];
		for (const [status, body, headers, code, message] of table) {
			let changed = 0;
			const board = new JobBoard({ fetch: answer(status, body, headers), onChange: () => changed++ });
			expect(await board.submit(params, 3)).toBeNull();
			expect(board.failure).toMatchObject({ code, refunded: 0, params, count: 3 });
			expect(board.failure!.message).toMatch(message);
			expect(changed).toBe(1);
			expect(board.shown).toEqual([]);
		}
	});

	it('says so when the server is unreachable', async () => {
		const board = new JobBoard({ fetch: (async () => { throw new TypeError('Failed to fetch'); }) as typeof fetch });
		await board.submit(params);
		expect(board.failure).toMatchObject({ code: 'network', params, count: 1 });
	});

	it('Try again sends the refused request as it was, with its number of images', async () => {
		const bodies: unknown[] = [];
		const board = new JobBoard({
			fetch: (async (_url: string, init?: RequestInit) => {
				bodies.push(JSON.parse(String(init?.body)));
				return Response.json(error('too_many_jobs', 'x'), { status: 429 });
			}) as typeof fetch
		});
		await board.submit(params, 2);
		await board.retry();
		expect(bodies).toEqual([{ params, count: 2 }, { params, count: 2 }]);
	});
});

describe('JobBoard with a batch and a queue', () => {
	const running = { status: 'running', attempts: 1, position: 0, etaSeconds: null, islandsOnline: 1, backend: 'wasm' };

	it('shows a batch image by image on one stream, and refunds a failed one alone', async () => {
		FakeEventSource.install();
		const bodies: unknown[] = [];
		let next = batch(3);
		const board = new JobBoard({
			fetch: (async (_url: string, init?: RequestInit) => {
				bodies.push(JSON.parse(String(init?.body)));
				return Response.json(next, { status: 201 });
			}) as typeof fetch
		});
		const jobs = (await board.submit(params, 3))!;
		expect(bodies).toEqual([{ params, count: 3 }]);
		expect(jobs.map((j) => j.params.seed)).toEqual([9, 10, 11]);
		expect(board.batchId).toBe('b0');
		expect(board.shown.map((g) => g.job!.id)).toEqual(['b0', 'b1', 'b2']);
		// One connection for the three, whatever else the page follows.
		expect(FakeEventSource.opened.map((s) => s.url)).toEqual(['/api/jobs/events?ids=b0,b1,b2']);
		expect(board.queue.map((g) => g.job!.id)).toEqual(['b0', 'b1', 'b2']);

		const stream = FakeEventSource.current()!;
		stream.job('b0', 'status', running);
		stream.job('b0', 'progress', { step: 2, total: 4, preview: null });
		stream.job('b1', 'failed', { status: 'failed', failureCode: 'island_error', reason: 'out of memory', attempts: 3, refunded: 10 });
		stream.job('b2', 'completed', { status: 'completed', imageUrl: '/api/images/i2.png', cost: 10, verification: 'unchecked' });
		const [first, failed, done] = board.shown;
		expect([first.status, first.step, failed.status, failed.job!.refunded, done.status, done.imageUrl]).toEqual(['running', 2, 'failed', 10, 'completed', '/api/images/i2.png']);
		expect(failed.failure!.message).toBe('The Islands could not make this image (out of memory). It was tried 3 times.');
		// Only the running one is still in flight: the others left the queue, and the stream stays as it is.
		expect(board.queue.map((g) => g.job!.id)).toEqual(['b0']);
		expect([FakeEventSource.opened.length, stream.readyState]).toEqual([1, FakeEventSource.OPEN]);
		expect(board.latest(jobFixture({ id: 'b0' })).status).toBe('running');

		// Try again on the failed image: its own recorded params (its seed) as one image.
		next = batch(1, 'r');
		await board.retry(failed);
		expect(bodies[1]).toEqual({ params: { ...params, seed: 10, guidance: 5 } });
		expect(board.shown.map((g) => g.job!.id)).toEqual(['r0']);
		// A new job in flight: the stream re-opens for it and the batch's running image.
		expect([stream.readyState, FakeEventSource.current()!.url]).toEqual([FakeEventSource.CLOSED, '/api/jobs/events?ids=b0,r0']);
		// The batch's finished images are let go; its running one stays in the queue.
		expect(board.queue.map((g) => g.job!.id)).toEqual(['b0', 'r0']);
		expect(board.latest(jobFixture({ id: 'b2' })).status).toBe('queued');

		// The last job in flight ends: the stream closes rather than wait to be re-opened for nothing.
		FakeEventSource.current()!.job('b0', 'completed', { status: 'completed', imageUrl: '/api/images/i0.png', cost: 10, verification: 'unchecked' });
		FakeEventSource.current()!.job('r0', 'failed', { status: 'cancelled', failureCode: 'cancelled', reason: null, attempts: 0, refunded: 10 });
		expect(FakeEventSource.current()).toBeNull();
		expect(FakeEventSource.opened).toHaveLength(2);
		board.dispose();
	});

	it('follows jobs started elsewhere once each, and lists the queue oldest first', () => {
		FakeEventSource.install();
		const board = new JobBoard({ fetch: answer(500, {}) });
		const older = jobFixture({ id: 'old', createdAt: '2026-01-01T00:00:00.000Z' });
		const newer: JobView[] = [1, 0].map((i) => jobFixture({ id: `new${i}`, batchId: 'new0', batchIndex: i, createdAt: '2026-01-01T00:01:00.000Z' }));
		board.follow([...newer, older]);
		board.follow([older]);
		expect(FakeEventSource.opened.map((s) => s.url)).toEqual(['/api/jobs/events?ids=new1,new0,old']);
		expect(board.queue.map((g) => g.job!.id)).toEqual(['old', 'new0', 'new1']);
		// Following is not showing: the output panel stays as it was.
		expect(board.shown).toEqual([]);
		board.show(newer.toReversed());
		expect([board.batchId, board.shown.map((g) => g.job!.id)]).toEqual(['new0', ['new0', 'new1']]);
		expect(FakeEventSource.opened).toHaveLength(1);
		// Finished jobs are followed without a stream.
		board.follow([jobFixture({ id: 'done', status: 'completed', imageUrl: '/api/images/d.png' })]);
		expect(FakeEventSource.opened).toHaveLength(1);
		board.dispose();
		expect(FakeEventSource.current()).toBeNull();
	});

	it('when the browser gives the stream up, reads each job and re-opens for those still going', async () => {
		FakeEventSource.install();
		const fetched: string[] = [];
		const board = new JobBoard({
			reconnectDelayMs: () => 0,
			fetch: (async (url: string) => {
				fetched.push(url);
				const id = url.split('/').at(-1)!;
				return Response.json({ job: id === 'a' ? jobFixture({ id, status: 'running', progress: { step: 3, total: 4 } }) : jobFixture({ id, status: 'completed', imageUrl: '/api/images/b.png' }) });
			}) as typeof fetch
		});
		board.follow([jobFixture({ id: 'a' }), jobFixture({ id: 'b' })]);
		const first = FakeEventSource.current()!;
		first.fail();
		expect(board.queue.every((g) => g.reconnecting)).toBe(true);
		await expect.poll(() => FakeEventSource.opened.length).toBe(2);
		expect(fetched.toSorted()).toEqual(['/api/jobs/a', '/api/jobs/b']);
		expect(FakeEventSource.current()!.url).toBe('/api/jobs/events?ids=a');
		expect(board.queue.map((g) => [g.job!.id, g.step, g.reconnecting])).toEqual([['a', 3, false]]);
		expect(board.latest(jobFixture({ id: 'b' })).status).toBe('completed');
		board.dispose();
	});

	it('when the session ended, stops following and offers to log in back to the job', async () => {
		FakeEventSource.install();
		const board = new JobBoard({ reconnectDelayMs: () => 0, fetch: answer(401, error('unauthenticated', 'x')) });
		board.show([jobFixture({ id: 'job9' })]);
		FakeEventSource.current()!.fail();
		await expect.poll(() => board.shown[0].failure?.code).toBe('unauthenticated');
		await new Promise((r) => setTimeout(r, 10));
		expect(FakeEventSource.opened).toHaveLength(1);
		expect(board.shown[0].reconnecting).toBe(false);
	});
});
