import { describe, expect, it } from 'vitest';
import { describeJobFailure, Generation, requestParams } from './generation.svelte';
import { verificationNote, verificationPending } from './verification';
import type { JobView, RecordedParams } from '$lib/api/jobs';
import { jobFixture } from '../../../tests/helpers/fake-event-source';

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

describe('Generation following a job from its events', () => {
	it('goes status → progress → completed, a requeue starts its progress again, and nothing moves it after the end', () => {
		let changed = 0;
		const gen = new Generation({ onChange: () => changed++ });
		gen.attach(jobFixture());
		gen.receive('status', { status: 'queued', attempts: 0, position: 3, etaSeconds: 40, islandsOnline: 0, backend: null });
		expect([gen.status, gen.position, gen.etaSeconds, gen.islandsOnline]).toEqual(['queued', 3, 40, 0]);
		gen.receive('status', { status: 'running', attempts: 1, position: 0, etaSeconds: null, islandsOnline: 1, backend: 'webgpu' });
		gen.receive('progress', { step: 1, total: 4, preview: 'data:image/png;base64,AA==' });
		expect([gen.status, gen.backend, gen.step, gen.total, gen.preview]).toEqual(['running', 'webgpu', 1, 4, 'data:image/png;base64,AA==']);
		// Its Island gave up: back in the queue, the progress starts again.
		gen.receive('status', { status: 'queued', attempts: 1, position: 1, etaSeconds: null, islandsOnline: 1, backend: null });
		expect([gen.status, gen.step, gen.total, gen.preview, gen.backend, gen.job?.attempts]).toEqual(['queued', 0, 0, null, null, 1]);
		gen.receive('completed', { status: 'completed', imageUrl: '/api/images/i1.png', cost: 10, verification: 'unchecked' });
		expect([gen.status, gen.imageUrl, gen.job?.imageUrl, changed]).toEqual(['completed', '/api/images/i1.png', '/api/images/i1.png', 1]);
		// A re-opened stream sends the final state again: nothing changes, nothing is reported twice.
		gen.receive('completed', { status: 'completed', imageUrl: '/api/images/i1.png', cost: 10, verification: 'unchecked' });
		gen.receive('status', { status: 'queued', attempts: 1, position: 1, etaSeconds: null, islandsOnline: 1, backend: null });
		expect([gen.status, changed]).toEqual(['completed', 1]);
	});

	it('a failed job shows its refund and the words for its code', () => {
		const gen = new Generation();
		// Recorded params may hold a null the strict schema would refuse on Try again.
		gen.attach(jobFixture({ params: { ...jobFixture().params, negativePrompt: null } as unknown as RecordedParams }));
		gen.receive('failed', { status: 'failed', failureCode: 'island_error', reason: 'boom', attempts: 3, refunded: 10 });
		expect(gen.failure).toMatchObject({ code: 'job_failed', refunded: 10, params: { prompt: 'a red circle', model: 'demo', width: 256, height: 256, steps: 4, seed: 9, guidance: 5 } });
		expect(gen.failure!.message).toBe('The Islands could not make this image (boom). It was tried 3 times.');
		expect(gen.job).toMatchObject({ status: 'failed', refunded: 10, attempts: 3 });
	});
});

describe('Generation and a finished picture\'s check', () => {
	const completed = (over: Partial<JobView> = {}) =>
		jobFixture({ id: 'job5', status: 'completed', attempts: 1, imageUrl: '/api/images/first.png', verification: 'checking', ...over });

	it('takes the verification the completed event carries', () => {
		const gen = new Generation({ fetch: (async () => { throw new Error('no fetch expected'); }) as typeof fetch });
		gen.attach(completed({ status: 'running', imageUrl: null, verification: 'unchecked' }));
		gen.receive('completed', { status: 'completed', imageUrl: '/api/images/first.png', cost: 10, verification: 'checking' });
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
	it('stops being followed and offers to log in back to the job', async () => {
		const fetchStub = (async () => new Response(JSON.stringify({ error: { code: 'unauthenticated', message: 'x' } }), { status: 401 })) as typeof fetch;
		const gen = new Generation({ fetch: fetchStub });
		gen.attach(jobFixture({ id: 'job9' }));
		gen.reconnecting = true;
		expect(await gen.refresh()).toBe(false);
		expect(gen.failure).toMatchObject({ code: 'unauthenticated' });
		expect([gen.lost, gen.reconnecting]).toEqual([true, false]);
	});
});
