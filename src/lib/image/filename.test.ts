import { describe, expect, it } from 'vitest';
import { imageFileName } from './filename';

describe('imageFileName', () => {
	it('slugs the prompt and adds the seed', () => {
		expect(imageFileName('A red circle, on a BLUE background!', 42)).toBe('a-red-circle-on-a-blue-background-42.png');
	});
	it('drops accents and characters file systems dislike', () => {
		expect(imageFileName('café / "quotes" : <tags>?', 1)).toBe('cafe-quotes-tags-1.png');
	});
	it('caps the length without a trailing dash', () => {
		const name = imageFileName('word '.repeat(40), 7);
		expect(name.length).toBeLessThanOrEqual(60 + '-7.png'.length);
		expect(name).not.toMatch(/--|-\-7/);
	});
	it('falls back to "image" for a prompt with no letters', () => {
		expect(imageFileName('!!!', undefined)).toBe('image.png');
	});
});
