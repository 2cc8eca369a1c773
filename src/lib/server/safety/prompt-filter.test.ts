import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, openTestDatabase, type TestDatabase } from '../../../../tests/helpers/db';
import { createUser, toSessionUser } from '../auth/users';
import { ApiError } from '../http';
import { promptRejections } from '../db/schema';
import { foldCharacters, readings } from './normalize';
import { assertPromptAllowed } from './prompt-filter';
import { checkText, makeChecker, parseWordList } from './wordlist';

const blocked = (text: string) => !checkText(text).allowed;

describe('normalisation', () => {
	it('folds case, width, styled letters, accents and invisible characters', () => {
		expect(foldCharacters('ＮＵＤＥ')).toBe('nude');
		expect(foldCharacters('𝐧𝐮𝐝𝐞')).toBe('nude');
		expect(foldCharacters('ⓝⓤⓓⓔ')).toBe('nude');
		expect(foldCharacters('nüdé')).toBe('nude');
		expect(foldCharacters('nu\u200Bd\u200De\u00AD\uFEFF')).toBe('nude');
	});

	it('maps look-alike letters from other scripts (Cyrillic, Greek)', () => {
		expect(foldCharacters('\u0440\u043Ern')).toBe('porn');
		expect(foldCharacters('\u03BD\u03C5de')).toBe('vude');
		expect(foldCharacters('n\u0430k\u0435d')).toBe('naked');
	});

	it('reads leetspeak inside words but leaves plain numbers and trailing punctuation alone', () => {
		expect(readings('p0rn')[0]).toEqual(['porn']);
		expect(readings('$3x')[1]).toEqual(['sex']);
		expect(readings('a 1024 by 768 image')[0]).toEqual(['a', 'by', 'image']);
		expect(readings('lol!')[1]).toEqual(['ioi']);
	});

	it('joins spaced and separated letters', () => {
		expect(readings('n u d e beach')[0]).toEqual(['nude', 'beach']);
		expect(readings('n.u.d.e')[0]).toEqual(['nude']);
		expect(readings('n-u-d-e')[1]).toEqual(['nude']);
	});
});

describe('the committed word list', () => {
	it.each([
		'a nude portrait',
		'NUDE portrait',
		'n u d e portrait',
		'n.u.d.e portrait',
		'nuuuude portrait',
		'nud3 portrait',
		'ｎｕｄｅ portrait',
		'n\u200Bude portrait',
		'nud\u0435 portrait',
		'hardcore pornography',
		'p0rn0graphic scene',
		'a $exy loli',
		'childporn',
		'child porn',
		'a pedophile',
		'PEDO',
		'beheading in the street'
	])('blocks %j', (prompt) => {
		expect(blocked(prompt)).toBe(true);
	});

	it.each([
		'a class photo of the chess club',
		'Scunthorpe United at dusk',
		'a cocktail on a bar in Essex and Sussex',
		'data analysis dashboard',
		'a therapist in her office',
		'grapes on a vine, drape in the wind',
		'a cockatoo on a branch',
		'the infantry crossing a river',
		'a niggardly miser counting coins',
		'a child flying a kite at the beach',
		'a sexy red sports car',
		'a 512x512 render, 3d, octane, trending',
		'lol! so cute',
		'passionate assassin in the classroom',
		'a pedometer on a wrist'
	])('lets %j through', (prompt) => {
		expect(checkText(prompt)).toEqual({ allowed: true, terms: [] });
	});

	it('refuses a minor term together with a suggestive one, though each alone passes', () => {
		expect(blocked('a child at the beach')).toBe(false);
		expect(blocked('a woman in a bikini')).toBe(false);
		expect(checkText('a child in a bikini').terms.sort()).toEqual(['bikini*', 'child']);
		expect(blocked('a sexy t33n')).toBe(true);
	});

	it('reports which entries matched', () => {
		expect(checkText('NUDE and g0ry').terms.sort()).toEqual(['gory', 'nude']);
	});
});

describe('list syntax', () => {
	const check = makeChecker(
		parseWordList(`[block]\nfoo\nbar*\n*baz*\nred fox\n[allow]\nbarrel\n[minor]\nkid\n[suggestive]\nsexy\n`)
	);
	it('matches whole words, prefixes, infixes and phrases, and honours the allow list', () => {
		expect(check('foo').allowed).toBe(false);
		expect(check('food').allowed).toBe(true);
		expect(check('barn').allowed).toBe(false);
		expect(check('a barrel').allowed).toBe(true);
		expect(check('abazooka').allowed).toBe(false);
		expect(check('a red fox').allowed).toBe(false);
		expect(check('redfox').allowed).toBe(false);
		expect(check('a red wolf and a fox').allowed).toBe(true);
	});
	it('refuses a * on a phrase', () => {
		expect(() => parseWordList('[block]\nred fox*\n')).toThrow(/single words/);
	});
});

describe.each(drivers)('assertPromptAllowed on %s', (driver) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(driver);
	});
	afterAll(() => t.dispose());

	it('throws 422 prompt_rejected and logs the attempt; a clean prompt logs nothing', async () => {
		const row = await createUser(t.db, `${crypto.randomUUID()}@example.com`, 'x');
		const user = toSessionUser(row!);
		await assertPromptAllowed(user, { prompt: 'a lighthouse at dawn', negativePrompt: 'blurry' }, t.db);
		const err = await assertPromptAllowed(user, { prompt: 'a lighthouse', negativePrompt: 'n a k e d' }, t.db).catch((e) => e);
		expect(err).toBeInstanceOf(ApiError);
		expect(err).toMatchObject({ status: 422, code: 'prompt_rejected' });
		expect(err.message).toMatch(/negative prompt/);
		const logged = await t.db.select().from(promptRejections);
		expect(logged).toHaveLength(1);
		expect(logged[0]).toMatchObject({ userId: user.id, prompt: 'a lighthouse', negativePrompt: 'n a k e d', field: 'negativePrompt', terms: ['naked'] });
	});
});
