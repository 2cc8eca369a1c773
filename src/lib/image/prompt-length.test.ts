import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PromptLength, type PromptWindow } from './prompt-length.svelte';
import { createTokenizer } from '$lib/diffusion/tokenizer';

const demoJson = JSON.parse(readFileSync(new URL('../../../static/models/demo/tokenizer.json', import.meta.url), 'utf8'));
const demoManifest = JSON.parse(readFileSync(new URL('../../../static/models/demo/manifest.json', import.meta.url), 'utf8'));
const windows: Record<string, PromptWindow> = { demo: { ...demoManifest.tokenizer, tokenizerUrl: '/models/demo/tokenizer.json' } };

describe('PromptLength: the form’s warning about words the model will ignore', () => {
	it('loads nothing for a prompt too short to overflow, then names the ignored words once the tokenizer is in', async () => {
		const loads: string[] = [];
		const length = new PromptLength(windows, async (w) => {
			loads.push(w.tokenizerUrl);
			return createTokenizer(demoJson, w);
		});
		// 24 bytes can't make more than 24 tokens: no tokenizer needed.
		expect(length.overflow('demo', 'a red circle on blue bg.')).toBeNull();
		expect(loads).toEqual([]);

		const long = 'a small yellow star in the top left corner, green background, and a large red heart in the bottom right corner on a purple backdrop';
		// Not known until the tokenizer has loaded; asked for once however often the form asks.
		expect(length.overflow('demo', long)).toBeNull();
		expect(length.overflow('demo', `${long}!`)).toBeNull();
		await expect.poll(() => length.overflow('demo', long)).toEqual({ tokens: 27, room: 24, ignored: 'a purple backdrop' });
		expect(loads).toEqual(['/models/demo/tokenizer.json']);
		// A long prompt that fits says nothing.
		expect(length.overflow('demo', 'a small yellow star in the top left corner, green background')).toBeNull();
		// A model without a known window says nothing either.
		expect(length.overflow('other', long)).toBeNull();
	});

	it('says nothing when the tokenizer cannot be loaded, and doesn’t ask again on every keystroke', async () => {
		let loads = 0;
		const length = new PromptLength(windows, async () => {
			loads++;
			throw new Error('offline');
		});
		const long = Array(30).fill('red').join(' ');
		expect(length.overflow('demo', long)).toBeNull();
		await new Promise((r) => setTimeout(r, 10));
		expect(length.overflow('demo', `${long} red`)).toBeNull();
		expect(loads).toBe(1);
	});
});
