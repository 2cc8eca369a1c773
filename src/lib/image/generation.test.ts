import { describe, expect, it } from 'vitest';
import { describeJobFailure, requestParams } from './generation.svelte';

describe('describeJobFailure', () => {
	it('says each broker reason in plain words, with the number of tries', () => {
		expect(describeJobFailure('The Island failed: out of memory (gave up after 3 attempts)')).toBe(
			'The Islands could not make this image (out of memory). It was tried 3 times.'
		);
		expect(describeJobFailure('The Island working on it stopped responding (gave up after 3 attempts)')).toBe(
			'Timed out on the Islands: the Islands working on it stopped responding. It was tried 3 times.'
		);
		expect(describeJobFailure('The Island sent an invalid image (wrong size) (gave up after 3 attempts)')).toBe(
			'The Islands sent back a broken image. It was tried 3 times.'
		);
		expect(describeJobFailure(null)).toBe('The image could not be made.');
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
