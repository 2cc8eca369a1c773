import { describe, expect, it } from 'vitest';
import { describeJobFailure, Generation, requestParams } from './generation.svelte';
import { verificationNote, verificationPending } from './verification';
import type { JobView } from '$lib/api/jobs';

describe('describeJobFailure', () => {
	it('words each failure code, with the number of tries and the Island\'s own reason', () => {
		expect(describeJobFailure({ failureCode: 'island_error', reason: 'out of memory', attempts: 3 })).toBe(
			'The Islands could not make this image (out of memory). It was tried 3 times.'
		);
		expect(describeJobFailure({ failureCode: 'island_unresponsive', reason: 'The Island working on it stopped responding.', attempts: 3 })).toBe(
			'Timed out on the Islands: the Islands working on it stopped responding. It was tried 3 times.'
		);
		expect(describeJobFailure({ failureCode: 'invalid_image', reason: 'wrong size', attempts: 3 })).toBe(
			'The Islands sent back a broken image. It was tried 3 times.'
		);
		expect(describeJobFailure({ failureCode: 'cancelled', reason: 'Cancelled by the requester.', attempts: 1 })).toBe('You cancelled this image.');
	});

	it('reads nothing back from the reason text: the code decides the words', () => {
		// A reason that reads like another failure doesn't change what the code says.
		expect(describeJobFailure({ failureCode: 'island_error', reason: 'stopped responding', attempts: 1 })).toBe(
			'The Islands could not make this image (stopped responding).'
		);
		expect(describeJobFailure({ failureCode: 'island_error', reason: null, attempts: 2 })).toBe('The Islands could not make this image. It was tried 2 times.');
	});

	it('shows an older job\'s reason as it is when it has no code', () => {
		expect(describeJobFailure({ failureCode: null, reason: 'Something broke.', attempts: 3 })).toBe('Something broke.');
		expect(describeJobFailure({ failureCode: null, reason: null, attempts: 0 })).toBe('The image could not be made.');
	});
});

describe('requestParams', () => {
	it('drops the nulls a recorded job has, which the strict schema would refuse', () => {
		expect(requestParams({ prompt: 'a', negativePrompt: null, model: 'demo', width: 256, height: 256, steps: 4, seed: 1, guidance: 5 })).toEqual({
			prompt: 'a',
			model: 'demo',
			width: 256,
			height: 256,
			steps: 4,
			seed: 1,
			guidance: 5
		});
	});
});

describe('Generation.submit', () => {
	const params = { prompt: 'a red circle', model: 'demo', width: 256, height: 256, steps: 4 };
	const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
		(async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })) as typeof fetch;
	const error = (code: string, message: string) => ({ error: { code, message } });

	it('turns each refusal into words to act on, keeps the params for Try again, and asks the page to refresh', async () => {
		const table: [number, unknown, Record<string, string>, string, RegExp][] = [
			[403, error('kyc_required', 'x'), {}, 'kyc_required', /Verify your identity/],
			[402, error('insufficient_credits', 'This image costs 10 credits; buy a pack to top up your balance.'), {}, 'insufficient_credits', /costs 10 credits.*Nothing was charged/],
			[429, error('rate_limited', 'Too many requests.'), { 'retry-after': '17' }, 'rate_limited', /too fast\. Wait 17 seconds/],
			[422, error('prompt_rejected', "This prompt asks for something Archipelago doesn't generate."), {}, 'prompt_rejected', /doesn't generate/],
			[500, error('internal', 'boom'), {}, 'internal', /on our side\. Nothing was charged/]
		];
		for (const [status, body, headers, code, message] of table) {
			let changed = 0;
			const gen = new Generation({ fetch: answer(status, body, headers), onChange: () => changed++ });
			expect(await gen.submit(params)).toBeNull();
			expect(gen.failure).toMatchObject({ code, refunded: 0, params });
			expect(gen.failure!.message).toMatch(message);
			expect(changed).toBe(1);
			expect(gen.job).toBeNull();
		}
	});

	it('says so when the server is unreachable', async () => {
		const gen = new Generation({ fetch: (async () => { throw new TypeError('Failed to fetch'); }) as typeof fetch });
		await gen.submit(params);
		expect(gen.failure).toMatchObject({ code: 'network', params });
	});
});

/** Enough of EventSource to drive Generation: the test emits events and errors by hand. */
class FakeEventSource {
	static CONNECTING = 0;
	static OPEN = 1;
	static CLOSED = 2;
	static opened: FakeEventSource[] = [];
	readyState = FakeEventSource.OPEN;
	onerror: (() => void) | null = null;
	#listeners = new Map<string, ((e: MessageEvent) => void)[]>();
	constructor(readonly url: string) {
		FakeEventSource.opened.push(this);
	}
	addEventListener(type: string, fn: (e: MessageEvent) => void) {
		this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), fn]);
	}
	close() {
		this.readyState = FakeEventSource.CLOSED;
	}
	emit(type: string, id: number, data: unknown) {
		for (const fn of this.#listeners.get(type) ?? []) fn(new MessageEvent(type, { data: JSON.stringify(data), lastEventId: String(id) }));
	}
	fail() {
		this.readyState = FakeEventSource.CLOSED;
		this.onerror?.();
	}
}

describe('Generation watching a job over SSE', () => {
	const view = (over: Record<string, unknown> = {}) => ({
		id: 'job1',
		status: 'queued' as const,
		params: { prompt: 'a red circle', model: 'demo', width: 256, height: 256, steps: 4, seed: 9, guidance: 5 },
		cost: 10,
		tier: 'standard' as const,
		attempts: 0,
		createdAt: '',
		startedAt: null,
		finishedAt: null,
		failureCode: null,
		failureReason: null,
		refunded: 0,
		imageUrl: null,
		imageDeletedAt: null,
		progress: null,
		verification: 'unchecked' as const,
		...over
	});

	it('follows status → progress → completed, and resumes from the last event id after the stream closes', async () => {
		(globalThis as { EventSource?: unknown }).EventSource = FakeEventSource;
		FakeEventSource.opened = [];
		const fetched: string[] = [];
		const fetchStub = (async (url: string) => {
			fetched.push(url);
			return new Response(JSON.stringify({ job: view({ status: 'running', progress: { step: 2, total: 4 } }) }), { status: 200 });
		}) as typeof fetch;
		const gen = new Generation({ fetch: fetchStub, reconnectDelayMs: () => 0 });
		gen.attach(view());
		const first = FakeEventSource.opened[0];
		expect(first.url).toBe('/api/jobs/job1/events');

		first.emit('status', 1, { status: 'queued', attempts: 0, position: 3, etaSeconds: 40, islandsOnline: 0 });
		expect([gen.status, gen.position, gen.etaSeconds, gen.islandsOnline]).toEqual(['queued', 3, 40, 0]);
		first.emit('status', 2, { status: 'running', attempts: 1, position: 0, etaSeconds: null, islandsOnline: 1, backend: 'webgpu' });
		first.emit('progress', 3, { step: 1, total: 4, preview: 'data:image/png;base64,AA==' });
		expect([gen.status, gen.backend, gen.step, gen.total, gen.preview]).toEqual(['running', 'webgpu', 1, 4, 'data:image/png;base64,AA==']);

		// The server went away and the browser gave up: look at the job, then re-open from id 3.
		first.fail();
		expect(gen.reconnecting).toBe(true);
		await new Promise((r) => setTimeout(r, 10));
		expect(fetched).toEqual(['/api/jobs/job1']);
		expect(gen.step).toBe(2);
		const second = FakeEventSource.opened[1];
		expect(second.url).toBe('/api/jobs/job1/events?lastEventId=3');
		expect(gen.reconnecting).toBe(false);

		let changed = 0;
		const done = new Generation({ fetch: fetchStub, onChange: () => changed++ });
		done.attach(view());
		const third = FakeEventSource.opened[2];
		third.emit('completed', 7, { status: 'completed', imageUrl: '/api/images/i1.png', cost: 10 });
		expect([done.status, done.imageUrl, third.readyState, changed]).toEqual(['completed', '/api/images/i1.png', FakeEventSource.CLOSED, 1]);
		gen.dispose();
	});

	it('a failed job shows its refund and Try again resubmits its recorded params', async () => {
		(globalThis as { EventSource?: unknown }).EventSource = FakeEventSource;
		FakeEventSource.opened = [];
		const bodies: unknown[] = [];
		const fetchStub = (async (_url: string, init?: RequestInit) => {
			bodies.push(JSON.parse(String(init?.body)));
			return new Response(JSON.stringify({ job: view({ id: 'job2' }) }), { status: 201 });
		}) as typeof fetch;
		const gen = new Generation({ fetch: fetchStub });
		gen.attach(view({ params: { ...view().params, negativePrompt: null } }));
		FakeEventSource.opened[0].emit('failed', 5, { status: 'failed', failureCode: 'island_error', reason: 'boom', attempts: 3, refunded: 10 });
		expect(gen.failure).toMatchObject({ code: 'job_failed', refunded: 10 });
		expect(gen.failure!.message).toBe('The Islands could not make this image (boom). It was tried 3 times.');
		await gen.retry();
		expect(bodies).toEqual([{ params: { prompt: 'a red circle', model: 'demo', width: 256, height: 256, steps: 4, seed: 9, guidance: 5 } }]);
		expect(gen.job?.id).toBe('job2');
		expect(gen.failure).toBeNull();
		gen.dispose();
	});
});

describe('Generation and a finished picture\'s check', () => {
	const completed = (over: Partial<JobView> = {}): JobView => ({
		id: 'job5', status: 'completed', params: { prompt: 'a', model: 'demo', width: 256, height: 256, steps: 4, seed: 1, guidance: 5 }, cost: 10, tier: 'standard',
		attempts: 1, createdAt: '', startedAt: null, finishedAt: null, failureCode: null, failureReason: null, refunded: 0, imageUrl: '/api/images/first.png', imageDeletedAt: null, progress: null,
		verification: 'checking', ...over
	});

	it('takes the verification the completed event carries', () => {
		(globalThis as { EventSource?: unknown }).EventSource = FakeEventSource;
		FakeEventSource.opened = [];
		const gen = new Generation({ fetch: (async () => { throw new Error('no fetch expected'); }) as typeof fetch });
		gen.attach(completed({ status: 'running', imageUrl: null, verification: 'unchecked' }));
		FakeEventSource.opened[0].emit('completed', 4, { status: 'completed', imageUrl: '/api/images/first.png', cost: 10, verification: 'checking' });
		expect(gen.job?.verification).toBe('checking');
	});

	it('reads a finished job again when its check was still going, and shows the redrawn picture', async () => {
		const fetched: string[] = [];
		const fetchStub = (async (url: string) => {
			fetched.push(url);
			return Response.json({ job: completed({ verification: 'replaced', imageUrl: '/api/images/redrawn.png' }) });
		}) as typeof fetch;
		const gen = new Generation({ fetch: fetchStub });
		gen.attach(completed());
		await expect.poll(() => gen.job?.verification).toBe('replaced');
		expect([fetched, gen.imageUrl]).toEqual([['/api/jobs/job5'], '/api/images/redrawn.png']);
		// A settled verdict is not read again.
		gen.attach(completed({ verification: 'confirmed' }));
		await new Promise((r) => setTimeout(r, 10));
		expect(fetched).toHaveLength(1);
		// "Look again" reads it on demand.
		await gen.recheck();
		expect(fetched).toHaveLength(2);
	});
});

describe('verificationNote', () => {
	it('says nothing about unchecked pictures and a few words about the others', () => {
		expect(verificationNote('unchecked')).toBeNull();
		expect(verificationNote('confirmed')).toEqual({ text: 'Checked by a second Island ✓', tone: 'ok' });
		expect(verificationNote('replaced')?.text).toBe('Redrawn: the first Island’s picture was wrong');
		expect(verificationNote('checking')?.tone).toBe('pending');
		expect([verificationPending('checking'), verificationPending('disputed'), verificationPending('redoing'), verificationPending('confirmed'), verificationPending('replaced')]).toEqual([true, true, true, false, false]);
	});
});

describe('Generation when the session ends', () => {
	it('stops reconnecting and offers to log in back to the job', async () => {
		(globalThis as { EventSource?: unknown }).EventSource = FakeEventSource;
		FakeEventSource.opened = [];
		const fetchStub = (async () => new Response(JSON.stringify({ error: { code: 'unauthenticated', message: 'x' } }), { status: 401 })) as typeof fetch;
		const gen = new Generation({ fetch: fetchStub, reconnectDelayMs: () => 0 });
		gen.attach({
			id: 'job9', status: 'queued', params: { prompt: 'a', model: 'demo', width: 256, height: 256, steps: 4, seed: 1, guidance: 5 }, cost: 10, tier: 'standard',
			attempts: 0, createdAt: '', startedAt: null, finishedAt: null, failureCode: null, failureReason: null, refunded: 0, imageUrl: null, imageDeletedAt: null, progress: null, verification: 'unchecked'
		});
		FakeEventSource.opened[0].fail();
		await new Promise((r) => setTimeout(r, 10));
		expect(gen.failure).toMatchObject({ code: 'unauthenticated' });
		expect(gen.reconnecting).toBe(false);
		expect(FakeEventSource.opened).toHaveLength(1);
	});
});
