import listText from './blocklist.txt?raw';
import { MASK, analyse, foldEntry, spellings } from './normalize';

type Kind = 'word' | 'prefix' | 'infix';
interface Term {
	/** The entry as written in blocklist.txt (what the admin sees). */
	source: string;
	words: string[];
	/** The words run together ("childporn"): made once, not for every prompt checked. */
	joined: string;
	kind: Kind;
}
interface WordList {
	block: Term[];
	allow: Set<string>;
	minor: Term[];
	suggestive: Term[];
}

export function parseWordList(text: string): WordList {
	const list: WordList = { block: [], allow: new Set(), minor: [], suggestive: [] };
	let section: keyof WordList = 'block';
	for (const raw of text.split('\n')) {
		const line = raw.trim();
		if (!line || line.startsWith('#')) continue;
		const header = line.match(/^\[(block|allow|minor|suggestive)\]$/);
		if (header) {
			section = header[1] as keyof WordList;
			continue;
		}
		if (section === 'allow') {
			for (const w of foldEntry(line)) list.allow.add(w);
			continue;
		}
		const kind: Kind = line.startsWith('*') && line.endsWith('*') ? 'infix' : line.endsWith('*') ? 'prefix' : 'word';
		const words = foldEntry(line.replace(/\*/g, ''));
		if (words.length === 0) continue;
		if (kind !== 'word' && words.length > 1) throw new Error(`blocklist: "${line}": only single words take a *`);
		list[section].push({ source: line, words, joined: words.join(''), kind });
	}
	return list;
}

/** Does `word` (possibly with MASK wildcards) spell `term` at `at`? */
function spellsAt(word: string, term: string, at: number) {
	for (let k = 0; k < term.length; k++) if (word[at + k] !== term[k] && word[at + k] !== MASK) return false;
	return true;
}

function wordMatches(word: string, term: string, kind: Kind) {
	if (!word.includes(MASK))
		return kind === 'word' ? word === term : kind === 'prefix' ? word.startsWith(term) : word.includes(term);
	// A masked word needs a visible letter where the term has its own: "?ude" alone could be anything.
	if (kind === 'word') return word.length === term.length && spellsAt(word, term, 0);
	if (kind === 'prefix') return word.length >= term.length && spellsAt(word, term, 0);
	for (let at = 0; at + term.length <= word.length; at++) if (spellsAt(word, term, at)) return true;
	return false;
}

/** A section's entries indexed for a prompt's words: whole words by a map, the rest in turn. */
interface Index {
	all: Term[];
	/** Single words, and phrases written as one word ("childporn"), by how they are spelled. */
	whole: Map<string, Term[]>;
	/** Prefix and infix entries. */
	partial: Term[];
	phrases: Term[];
}

function index(terms: Term[]): Index {
	const ix: Index = { all: terms, whole: new Map(), partial: [], phrases: [] };
	for (const term of terms) {
		if (term.kind !== 'word') ix.partial.push(term);
		else {
			ix.whole.set(term.joined, [...(ix.whole.get(term.joined) ?? []), term]);
			if (term.words.length > 1) ix.phrases.push(term);
		}
	}
	return ix;
}

/** The entries of `ix` found in one reading (each word tried with stretched letters squeezed). */
function findIn(reading: string[][], ix: Index, allow: Set<string>): string[] {
	const found = new Set<Term>();
	reading.forEach((spelled, i) => {
		// An allowed word ("infantry") is not searched for prefixes and infixes ("infant*").
		const allowed = spelled.some((w) => allow.has(w));
		for (const w of spelled) {
			if (w.includes(MASK)) {
				for (const t of ix.all)
					if (t.kind === 'word' ? wordMatches(w, t.joined, 'word') : !allowed && wordMatches(w, t.words[0], t.kind))
						found.add(t);
				continue;
			}
			for (const t of ix.whole.get(w) ?? []) found.add(t);
			if (!allowed) for (const t of ix.partial) if (wordMatches(w, t.words[0], t.kind)) found.add(t);
		}
		// A phrase matches word by word too.
		for (const t of ix.phrases) if (t.words.every((tw, k) => reading[i + k]?.some((w) => wordMatches(w, tw, 'word')))) found.add(t);
	});
	return ix.all.filter((t) => found.has(t)).map((t) => t.source);
}

/**
 * The entries found anywhere inside a run of spaced single letters: "a n u d e" merges into
 * "anude", "I s e x" into "isex". Any entry counts there, whole-word ones too; nobody spells
 * out harmless words a letter at a time around a listed one.
 */
function findInRuns(runs: string[][], terms: Term[]): string[] {
	return terms
		.filter((term) => runs.some((spelled) => spelled.some((run) => run.includes(term.joined))))
		.map((t) => t.source);
}

export interface Verdict {
	allowed: boolean;
	/** The list entries that matched (for the admin log; never shown to the requester). */
	terms: string[];
}

export function makeChecker(list: WordList) {
	const block = index(list.block);
	const minor = index(list.minor);
	const sexy = index(list.suggestive);
	return (text: string): Verdict => {
		const terms = new Set<string>();
		const minors = new Set<string>();
		const suggestive = new Set<string>();
		// An allowed word is taken as written: "rapping" must not be squeezed into "raping".
		const spell = (w: string) => (list.allow.has(w) ? [w] : spellings(w));
		const { readings, runs } = analyse(text);
		const spelledRuns = runs.map(spell);
		for (const words of readings) {
			const reading = words.map(spell);
			for (const t of findIn(reading, block, list.allow)) terms.add(t);
			for (const t of findIn(reading, minor, list.allow)) minors.add(t);
			for (const t of findIn(reading, sexy, list.allow)) suggestive.add(t);
		}
		for (const t of findInRuns(spelledRuns, list.block)) terms.add(t);
		for (const t of findInRuns(spelledRuns, list.minor)) minors.add(t);
		for (const t of findInRuns(spelledRuns, list.suggestive)) suggestive.add(t);
		// Either alone is ordinary ("a child at the beach", "a sexy dress"); together they are not.
		if (minors.size && suggestive.size) for (const t of [...minors, ...suggestive]) terms.add(t);
		return { allowed: terms.size === 0, terms: [...terms] };
	};
}

/** The committed list, parsed once. */
export const checkText = makeChecker(parseWordList(listText));
