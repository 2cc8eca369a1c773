// Prompt → fixed-length token ids, per docs/model-format.md: encode without the tokenizer's
// own special tokens, then wrap with bos/eos where the model has them, truncate, pad.
import { Tokenizer } from '@huggingface/tokenizers';
import { promptRoom, type PromptOverflow, type TokenizerSettings } from './prompt-window';

export type { PromptOverflow, TokenizerSettings } from './prompt-window';

export interface PromptTokenizer {
	/** Ids of exactly `maxLength` entries. */
	encode(text: string): number[];
	/** Where the text runs past the window, or null when the model reads all of it. */
	overflow(text: string): PromptOverflow | null;
	/** Words of the text that map to the unknown token: the UI can warn about them. */
	unknownWords(text: string): string[];
	readonly vocabSize: number;
}

export function createTokenizer(tokenizerJson: unknown, settings: TokenizerSettings): PromptTokenizer {
	if (typeof tokenizerJson !== 'object' || tokenizerJson === null) {
		throw new TypeError('tokenizer.json must be a JSON object');
	}
	const model = (tokenizerJson as { model?: { type?: string; unk_token?: string } }).model;
	// 0.2 has no WordLevel model and silently falls back to one that returns no id for
	// unknown words; refuse it rather than produce prompts with holes.
	if (model?.type !== 'WordPiece' && model?.type !== 'BPE') {
		throw new Error(`unsupported tokenizer model ${String(model?.type)}: use WordPiece or BPE`);
	}
	// The config carries the unk token for tokenizers that read it from there.
	const tok = new Tokenizer(tokenizerJson, { unk_token: model.unk_token ?? null });
	const unkId = model.unk_token ? tok.token_to_id(model.unk_token) : undefined;
	const { maxLength, padId, bosId, eosId } = settings;
	const vocabSize = tok.get_vocab(true).size;
	const room = promptRoom(settings);
	const countTokens = (text: string) => tok.encode(text, { add_special_tokens: false }).ids.length;

	return {
		vocabSize,
		encode(text) {
			const body = tok.encode(text, { add_special_tokens: false }).ids;
			const ids: number[] = [];
			if (bosId !== null) ids.push(bosId);
			// Keep room for eos when truncating, as CLIP does.
			for (let i = 0; i < body.length && i < room; i++) ids.push(body[i]);
			if (eosId !== null) ids.push(eosId);
			while (ids.length < maxLength) ids.push(padId);
			return ids;
		},
		overflow(text) {
			const tokens = countTokens(text);
			if (tokens <= room) return null;
			// Words as typed (split at white space): the longest run of whole words that fits is
			// read. Tokens never span a word boundary, so a longer prefix never has fewer tokens.
			const words = [...text.matchAll(/\S+/g)].map((m) => m.index + m[0].length);
			let fits = 0;
			for (let lo = 1, hi = words.length; lo <= hi; ) {
				const mid = (lo + hi) >> 1;
				if (countTokens(text.slice(0, words[mid - 1])) <= room) [fits, lo] = [mid, mid + 1];
				else hi = mid - 1;
			}
			return { tokens, room, ignored: text.slice(fits ? words[fits - 1] : 0).trim() };
		},
		unknownWords(text) {
			if (unkId === undefined) return [];
			// Encoding has no offsets in 0.2: split into the tokenizer's own words and
			// encode each, so the UI can name the words the model doesn't know.
			const normalized = tok.normalizer ? tok.normalizer.normalize(text) : text;
			const words = tok.pre_tokenizer ? tok.pre_tokenizer.pre_tokenize(normalized) : normalized.split(/\s+/);
			return words.filter((w) => w && tok.encode(w, { add_special_tokens: false }).ids.includes(unkId));
		}
	};
}
