// Look-alike characters: each technique × several list words, plus prompts that must pass.
import { describe, expect, it } from 'vitest';
import { foldCharacters } from './normalize';
import { checkText } from './wordlist';

const blocked = (text: string) => !checkText(text).allowed;

// Greek capitals that look like Latin ones (Ν Nu, Τ Tau, Ε Epsilon, Ο Omicron, Κ Kappa, Χ Chi, Ρ Rho, Α Alpha).
const GREEK_CAPITALS = [
	'\u039DUDE portrait',
	'a \u03A4\u0395\u0395\u039D in lingerie',
	'\u03A1\u039F\u0052N scene',
	'\u039DA\u039A\u0395D woman',
	'SE\u03A7 scene',
	'\u0391NAL',
	'a sexy \u039A\u0399D'
];
// Small capitals (IPA / phonetic extensions).
const SMALL_CAPITALS = ['ɴᴜᴅᴇ woman', 'ɴᴀᴋᴇᴅ woman', 'ꜱᴇx scene', 'ᴘᴏʀɴ', 'a ᴛᴇᴇɴ in a bikini', 'ɢᴏʀᴇ', 'ʀᴀᴘᴇ scene'];
// Lower-case letters of other scripts (Greek, Cyrillic, Cherokee, Lisu) that read as Latin.
const OTHER_SCRIPTS = [
	'\u03B7\u03C5de woman', // Greek eta upsilon
	'\u0442\u0435\u0435\u043F in lingerie', // Cyrillic т е е п
	'\u0440\u043Ern', // Cyrillic р о
	'\u0455\u0435\u0445', // Cyrillic ѕ е х
	'\uA4E0\uA4F4DE', // Lisu Na, U
	'\u13DA\u13ACX scene', // Cherokee Ꮪ Ꭼ
	'\u043C\u0430\u0455turbating'
];
// Styled letters NFKC already folded before (kept as regressions).
const STYLED = ['ＮＵＤＥ', '𝐧𝐮𝐝𝐞 art', 'ⓝⓤⓓⓔ', '𝓅𝑜𝓇𝓃', '𝔫𝔞𝔨𝔢𝔡', '🅽🆄🅳🅴'];
// Accents and invisible characters.
const MARKS = ['nüdé', 'ñáķéd', 'sëx', 'nu\u200Bde', 's\u00ADe\u2060x', 'p\u200Do\uFEFFrn'];

describe('look-alike characters are folded before case and matching', () => {
	it.each(GREEK_CAPITALS)('Greek capitals: blocks %j', (p) => expect(blocked(p)).toBe(true));
	it.each(SMALL_CAPITALS)('small capitals: blocks %j', (p) => expect(blocked(p)).toBe(true));
	it.each(OTHER_SCRIPTS)('other scripts: blocks %j', (p) => expect(blocked(p)).toBe(true));
	it.each(STYLED)('styled letters: blocks %j', (p) => expect(blocked(p)).toBe(true));
	it.each(MARKS)('accents and invisible characters: blocks %j', (p) => expect(blocked(p)).toBe(true));

	it('folds to plain a–z (capital look-alikes read as their Latin letter)', () => {
		expect(foldCharacters('\u039DUDE')).toBe('nude');
		expect(foldCharacters('ɴᴜᴅᴇ')).toBe('nude');
		expect(foldCharacters('\u03A4\u0395\u0395\u039D')).toBe('teen');
	});
});

describe('ordinary text in other scripts and with accents still passes', () => {
	it.each([
		'Αθήνα, the Parthenon at sunset', // Greek
		'Москва зимой, a snowy street', // Cyrillic
		'東京の夜景, neon lights',
		'café crème on a marble table',
		'Ωmega watch on a wrist',
		'a naïve painting of a château',
		'ΣΠΑΡΤΗ warriors in bronze armour'
	])('lets %j through', (p) => expect(checkText(p)).toEqual({ allowed: true, terms: [] }));
});
