// Spelling tricks: spaced letters with a stray letter, masked letters, repeated letters.
import { describe, expect, it } from 'vitest';
import { checkText } from './wordlist';

const blocked = (text: string) => !checkText(text).allowed;

// A stray single letter ("a", "I") before or after a spelled-out word must not hide it.
const SPACED_WITH_STRAY = [
	'a n u d e woman',
	'I s e x scene',
	'a p o r n scene',
	'n a k e d a woman',
	'draw a g o r e scene',
	'a t e e n in lingerie',
	'a sexy k i d',
	'c h i l d p o r n',
	'a n.u.d.e woman',
	'a n-u-d-e woman'
];
// A masking symbol inside a word stands for one hidden letter.
const MASKED = ['n*de woman', 'nu*e beach', 'p*rn', 's#x scene', 'n_ked woman', 'f**k', 'r@pe', 'g*re', 'a sexy t**n', 'p.rn'];
// Doubled or stretched letters, anywhere in the word.
const REPEATED = ['nudee woman', 'pornn', 'pornnn', 'seexx scene', 'nakkedd', 'sexxy teeen', 'goree', 'nuuuudeee', 'raaape'];

describe('spelling tricks are read through', () => {
	it.each(SPACED_WITH_STRAY)('spaced letters with a stray letter: blocks %j', (p) => expect(blocked(p)).toBe(true));
	it.each(MASKED)('masked letters: blocks %j', (p) => expect(blocked(p)).toBe(true));
	it.each(REPEATED)('repeated letters: blocks %j', (p) => expect(blocked(p)).toBe(true));

	it('names the list entry the trick hid', () => {
		expect(checkText('I s e x scene').terms).toEqual(['sex']);
		expect(checkText('n*de woman').terms).toEqual(['nude']);
		expect(checkText('pornn').terms).toEqual(['*porn*']);
	});
});

describe('ordinary prompts with the same shapes still pass', () => {
	it.each([
		'a red circle on a blue background',
		'a b c blocks on a table',
		'a 3 x 4 grid of tiles',
		'I a m happy', // a stray run of single letters with no list word in it
		'a vintage car, 1.5x zoom',
		'**masterpiece**, best quality',
		'a *sexy* red sports car',
		'rock-n-roll poster',
		'a #1 best seller book cover',
		'a coffee cup and a kettle',
		'a balloon over a hill',
		'a rapper rapping on stage',
		'he rapped on the door',
		'a sunny goodbye, well lit',
		'a teepee in the woods',
		// Found by running an English word list through the filter: squeezed, they'd read as list words.
		'a knight seeks the grail',
		'cattle fodder in a barn',
		'the poorness of the soil',
		'foliar spray on a leaf'
	])('lets %j through', (p) => expect(checkText(p)).toEqual({ allowed: true, terms: [] }));
});
