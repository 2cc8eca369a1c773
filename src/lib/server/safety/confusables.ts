/**
 * Look-alike characters folded to the Latin letters they are read as, before case folding.
 *
 * The bulk comes from Unicode's confusables data (UTS #39), as shipped by the `unhomoglyph`
 * package: it maps each of ~6,000 characters (Greek and Cyrillic capitals and lowercase,
 * Cherokee, Lisu, mathematical and phonetic letters...) to a prototype. Two gaps are filled
 * here because the data is made for comparing strings, not for reading them as Latin:
 * - some prototypes are themselves not a–z (small capital ᴛ for Greek τ and Cyrillic т,
 *   ĸ for κ and к, π for п, ꞓ for ε...), and small capitals map only to themselves;
 * - enclosed letters (🅽 🄽 🇳) have neither a confusable entry nor an NFKC decomposition.
 */
import unhomoglyph from 'unhomoglyph';

// Prototypes (lowercase, after the skeleton) that read as one Latin letter. Greek/Cyrillic
// capitals that the data leaves as such (Λ, Π) are lower-cased first, then land here too.
const PROTOTYPE_LETTERS: Record<string, string> = {
	ᴀ: 'a', ʌ: 'a', ʙ: 'b', ƅ: 'b', ᴄ: 'c', ᴅ: 'd', ẟ: 'd', ᴇ: 'e', ꞓ: 'e', ɛ: 'e', ꜰ: 'f', ɢ: 'g', ʜ: 'h', ɪ: 'i',
	ᴊ: 'j', ĸ: 'k', ᴋ: 'k', ʟ: 'l', ᴍ: 'm', ʍ: 'm', ɴ: 'n', ᴎ: 'n', π: 'n', ᴏ: 'o', ᴘ: 'p', ǫ: 'q', ꞯ: 'q', ʀ: 'r',
	ꜱ: 's', ᴛ: 't', ᴜ: 'u', μ: 'u', ᴠ: 'v', ᴡ: 'w', ω: 'w', χ: 'x', ʏ: 'y', ᴢ: 'z',
	// Letters that are two Latin letters (the skeleton keeps them whole).
	ß: 'ss', æ: 'ae', œ: 'oe', þ: 'th'
};

// Enclosed capital letters without a decomposition: 🅐 (negative circled), 🅰 (negative
// squared) and 🇦 (regional indicators, which render as letters outside a flag pair).
const ENCLOSED_BLOCKS = [0x1f150, 0x1f170, 0x1f1e6];

function enclosedLetter(ch: string): string | undefined {
	const cp = ch.codePointAt(0)!;
	for (const start of ENCLOSED_BLOCKS) if (cp >= start && cp < start + 26) return String.fromCharCode(97 + cp - start);
	return undefined;
}

// Only non-ASCII text goes through the skeleton: for ASCII the data folds m → rn and 1 → l,
// which would make "pomegranate" read "pornegranate". ASCII digits are the leet step's job.
const NON_ASCII = /[^\x00-\x7F]+/g;

/** The UTS #39 skeleton of the non-ASCII characters, then case-folded and read as Latin. */
export function foldConfusables(text: string): string {
	let s = text.normalize('NFD').replace(/\p{So}/gu, (ch) => enclosedLetter(ch) ?? ch);
	s = s.replace(NON_ASCII, unhomoglyph).toLowerCase();
	// Lower-casing can uncover new look-alikes (Γ → γ); a second pass folds them.
	s = s.replace(NON_ASCII, unhomoglyph);
	return Array.from(s, (ch) => PROTOTYPE_LETTERS[ch] ?? ch).join('');
}
