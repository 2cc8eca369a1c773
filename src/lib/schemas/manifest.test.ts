import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_EXAMPLE_CHARS, MAX_EXAMPLES, ModelManifest } from './manifest';

const demo = JSON.parse(readFileSync(new URL('../../../static/models/demo/manifest.json', import.meta.url), 'utf8'));
const without = (m: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(m).filter(([k]) => k !== key));

describe('manifest examples', () => {
	it('are optional: a manifest without them (an older export) still parses', () => {
		const parsed = ModelManifest.safeParse(without(demo, 'examples'));
		expect(parsed.success).toBe(true);
		expect(parsed.data!.examples).toBeUndefined();
	});

	it('take up to 8 prompts of up to 200 characters, trimmed', () => {
		const examples = [' a cat ', 'x'.repeat(MAX_EXAMPLE_CHARS), ...Array.from({ length: MAX_EXAMPLES - 2 }, (_, i) => `prompt ${i}`)];
		expect(ModelManifest.parse({ ...demo, examples }).examples).toEqual(['a cat', ...examples.slice(1)]);
	});

	it('refuse too many, too long, empty or non-string ones', () => {
		for (const examples of [
			Array.from({ length: MAX_EXAMPLES + 1 }, (_, i) => `prompt ${i}`),
			['x'.repeat(MAX_EXAMPLE_CHARS + 1)],
			['   '],
			[42],
			'a cat'
		]) {
			expect(ModelManifest.safeParse({ ...demo, examples }).success, JSON.stringify(examples)).toBe(false);
		}
	});
});
