/**
 * Folds a prompt (and each list entry, the same way) into lowercase a–z words, undoing the
 * usual ways of slipping a word past a list: case, accents, full-width and styled letters
 * (NFKC), look-alike letters from other scripts, zero-width characters, leetspeak and
 * s p a c e d or s.e.p.a.r.a.t.e.d letters.
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

/** Runs of single letters ("n u d e", "n.u.d.e") become one word. */
function mergeSpacedLetters(tokens: string[]): string[] {
	const out: string[] = [];
	let run = '';
	for (const t of tokens) {
		if (t.length === 1) {
			run += t;
			continue;
		}
		if (run) out.push(run);
		run = '';
		out.push(t);
	}
	if (run) out.push(run);
	return out;
}

/**
 * Two readings of the text, each a list of words: (A) every non-letter splits words;
 * (B) leet symbols count as letters and other punctuation inside a word is dropped.
 * A word list entry matches when it matches either reading.
 */
export function readings(text: string): string[][] {
	const folded = foldCharacters(text);
	const chunks = folded.split(/\s+/).filter(Boolean);
	const a: string[] = [];
	const b: string[] = [];
	for (const chunk of chunks) {
		const hasLetter = /[a-z]/.test(chunk);
		const digitsRead = hasLetter ? mapChars(chunk, LEET_DIGITS) : chunk;
		a.push(...digitsRead.split(/[^a-z]+/).filter(Boolean));
		const symbolsRead = digitsRead.replace(SYMBOL_BEFORE_LETTER, (ch) => LEET_SYMBOLS[ch]);
		const joined = symbolsRead.replace(/[^a-z]+/g, '');
		if (/[a-z]/.test(symbolsRead) && joined) b.push(joined);
	}
	return [mergeSpacedLetters(a), mergeSpacedLetters(b)];
}

/** A word as written and with stretched letters squeezed ("nuuuude" → "nude", "asss" → "ass"). */
export function spellings(word: string): string[] {
	if (!/(.)\1\1/.test(word)) return [word];
	return [word, word.replace(/(.)\1{2,}/g, '$1'), word.replace(/(.)\1{2,}/g, '$1$1')];
}

/** How a list entry is written after folding: the words of its first reading. */
export function foldEntry(entry: string): string[] {
	return readings(entry)[0];
}
