/**
 * Folds a prompt (and each list entry, the same way) into lowercase a–z words, undoing the
 * usual ways of slipping a word past a list: case, accents, full-width and styled letters
 * (NFKC), look-alike letters from other scripts (UTS #39, see confusables.ts), zero-width
 * characters, leetspeak, s p a c e d or s.e.p.a.r.a.t.e.d letters, masked letters (n*de)
 * and repeated letters (nudee).
 */
import { foldConfusables } from './confusables';

// Format characters (zero-width space/joiners, soft hyphen, BOM, bidi marks) and fillers
// that render as nothing, so "nu\u200Bde" looks like "nude" on screen.
const INVISIBLE = /[\p{Cf}\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFE00-\uFE0F\uFFA0]/gu;

// Digits read as letters only inside a word that also has letters ("p0rn", not "1024").
const LEET_DIGITS: Record<string, string> = { '0': 'o', '1': 'i', '2': 'z', '3': 'e', '4': 'a', '5': 's', '6': 'g', '7': 't', '8': 'b', '9': 'g' };
// Symbols read as letters only in the second reading, and only with a letter after them in
// the word: "$ex" is "sex" and "p@rn" is "porn", but "lol!" must not become "loli".
const LEET_SYMBOLS: Record<string, string> = { '@': 'a', $: 's', '!': 'i', '|': 'i', '+': 't', '€': 'e', '£': 'e', '¢': 'c' };
const SYMBOL_BEFORE_LETTER = /[@$!|+€£¢](?=[@$!|+€£¢]*[a-z])/g;

/** Case, width, styled letters, confusables, accents and invisible characters folded away. */
export function foldCharacters(text: string): string {
	// Look-alikes before case: lower-casing first turns Greek Ν into ν, which reads as "v".
	let s = foldConfusables(text.replace(INVISIBLE, '').normalize('NFKC'));
	s = s.normalize('NFD').replace(/\p{M}+/gu, '');
	// "l" and "1" and "i" are read alike, so the list and the prompt share one letter for them.
	return s.replace(/l/g, 'i');
}

function mapChars(chunk: string, table: Record<string, string>) {
	return Array.from(chunk, (ch) => table[ch] ?? ch).join('');
}

/** The wildcard a masked letter becomes in the third reading. */
export const MASK = '?';
// Symbols that stand for a hidden letter between two letters ("n*de", "p.rn", "s#x").
const MASKED_LETTERS = /(?<=[a-z])[*_#.?•·~^]+(?=[a-z])/g;

/** Runs of single letters ("n u d e", "n.u.d.e") become one word; each run is also kept apart. */
function mergeSpacedLetters(tokens: string[], runs: Set<string>): string[] {
	const out: string[] = [];
	let run = '';
	const end = () => {
		if (run) out.push(run);
		if (run.length > 1) runs.add(run);
		run = '';
	};
	for (const t of tokens) {
		if (t.length === 1) {
			run += t;
			continue;
		}
		end();
		out.push(t);
	}
	end();
	return out;
}

/** A word with masked letters, when enough of it is visible to guess from: "n?de" yes, "a?" no. */
function maskedWord(word: string): string | undefined {
	const masks = word.split(MASK).length - 1;
	const letters = word.length - masks;
	return masks > 0 && letters >= 2 && masks <= letters ? word : undefined;
}

export interface Analysis {
	/** Readings of the text, each a list of words; a list entry matches when it matches any. */
	readings: string[][];
	/**
	 * The runs of single letters merged into a word ("a n u d e" → "anude"). A stray "a" or
	 * "I" glues onto a spelled-out word, so list words are looked for inside a run.
	 */
	runs: string[];
}

/**
 * Three readings: (A) every non-letter splits words; (B) leet symbols count as letters and
 * other punctuation inside a word is dropped; (C) as A, but a masking symbol between letters
 * is a wildcard letter (MASK) matched against the list.
 */
export function analyse(text: string): Analysis {
	const folded = foldCharacters(text);
	const chunks = folded.split(/\s+/).filter(Boolean);
	const a: string[] = [];
	const b: string[] = [];
	const c: string[] = [];
	for (const chunk of chunks) {
		const hasLetter = /[a-z]/.test(chunk);
		const digitsRead = hasLetter ? mapChars(chunk, LEET_DIGITS) : chunk;
		const split = digitsRead.split(/[^a-z]+/).filter(Boolean);
		a.push(...split);
		const symbolsRead = digitsRead.replace(SYMBOL_BEFORE_LETTER, (ch) => LEET_SYMBOLS[ch]);
		const joined = symbolsRead.replace(/[^a-z]+/g, '');
		if (/[a-z]/.test(symbolsRead) && joined) b.push(joined);
		const masked = symbolsRead.replace(MASKED_LETTERS, (m) => MASK.repeat(m.length));
		const words = masked.includes(MASK) ? masked.split(/[^a-z?]+/).filter(Boolean) : split;
		c.push(...words.map((w) => (w.includes(MASK) ? (maskedWord(w) ?? w.replaceAll(MASK, '')) : w)).filter(Boolean));
	}
	const runs = new Set<string>();
	const readings = [a, b, c].map((words) => mergeSpacedLetters(words, runs));
	return { readings, runs: [...runs] };
}

export function readings(text: string): string[][] {
	return analyse(text).readings;
}

/**
 * A word as written and with repeated letters squeezed: "nuuuude" → "nude", "seexx" → "sex",
 * "pornn" → "porn". Each run of a repeated letter is tried as one and as two letters, so
 * "teeen" still reads "teen" (and never "ten": a prompt's "ten" is not squeezed into anything).
 */
export function spellings(word: string): string[] {
	let doubled = false;
	for (let i = 1; i < word.length && !doubled; i++) doubled = word[i] === word[i - 1];
	if (!doubled) return [word];
	const parts = word.match(/(.)\1*/g) ?? [];
	const repeated = parts.filter((p) => p.length > 1).length;
	if (repeated === 0) return [word];
	// Past a few runs the combinations explode; then squeeze them all alike.
	if (repeated > 4) return [word, word.replace(/(.)\1+/g, '$1'), word.replace(/(.)\1{2,}/g, '$1$1')];
	let out = [''];
	for (const p of parts) {
		const forms = p.length > 1 ? [p[0], p[0] + p[0]] : [p];
		out = out.flatMap((prefix) => forms.map((f) => prefix + f));
	}
	return [word, ...out.filter((w) => w !== word)];
}

/** How a list entry is written after folding: the words of its first reading. */
export function foldEntry(entry: string): string[] {
	return readings(entry)[0];
}
