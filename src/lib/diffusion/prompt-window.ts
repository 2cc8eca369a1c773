// A model's prompt window without the tokenizer library: the /image page checks whether a
// prompt could be too long before it loads the tokenizer (tokenizer.ts) to say which words.

export interface TokenizerSettings {
	maxLength: number;
	padId: number;
	bosId: number | null;
	eosId: number | null;
}

/** The /image page's view of a model's window: its settings and where its tokenizer.json is. */
export interface PromptWindow extends TokenizerSettings {
	tokenizerUrl: string;
}

/** A prompt longer than the model reads: what the tokenizer's `encode` drops. */
export interface PromptOverflow {
	/** Tokens the text makes, and how many of them the model reads (the window less bos/eos). */
	tokens: number;
	room: number;
	/** The text from the first word that doesn't fit whole, as typed: the model never sees it. */
	ignored: string;
}

/** Tokens of the window left for the prompt itself once bos and eos are placed. */
export function promptRoom({ maxLength, bosId, eosId }: TokenizerSettings): number {
	return maxLength - (bosId !== null ? 1 : 0) - (eosId !== null ? 1 : 0);
}
