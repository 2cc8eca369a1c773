// The prompt-length warning: a model reads a fixed number of tokens (its manifest's tokenizer
// window: 24 for the demo model, 77 less bos and eos for SD-Turbo) and drops the rest. The
// form names the words it will drop, counted by the model's own tokenizer
// (src/lib/diffusion/tokenizer.ts), which loads only once a prompt could be too long.
import { promptRoom, type PromptOverflow, type PromptWindow } from '$lib/diffusion/prompt-window';
import type { PromptTokenizer } from '$lib/diffusion/tokenizer';

export type { PromptOverflow, PromptWindow } from '$lib/diffusion/prompt-window';

/** Fetches a model's tokenizer.json and builds its tokenizer (the library is its own chunk). */
export type LoadTokenizer = (window: PromptWindow) => Promise<PromptTokenizer>;

const loadTokenizer: LoadTokenizer = async (window) => {
	const [{ createTokenizer }, json] = await Promise.all([
		import('$lib/diffusion/tokenizer'),
		fetch(window.tokenizerUrl).then((res) => {
			if (!res.ok) throw new Error(`tokenizer: HTTP ${res.status}`);
			return res.json();
		})
	]);
	return createTokenizer(json, window);
};

const utf8 = new TextEncoder();

export class PromptLength {
	#windows: Record<string, PromptWindow>;
	#load: LoadTokenizer;
	/** Loaded tokenizers by model id (raw: a tokenizer is not state to be proxied). */
	#tokenizers = $state.raw<Record<string, PromptTokenizer>>({});
	#requested = new Set<string>();

	constructor(windows: Record<string, PromptWindow>, load: LoadTokenizer = loadTokenizer) {
		this.#windows = windows;
		this.#load = load;
	}

	/**
	 * What `modelId` won't read of `text`, or null: when it all fits, or until the model's
	 * tokenizer has loaded (a text of no more bytes than the window has tokens always fits:
	 * every token stands for at least one byte, so nothing loads for a short prompt).
	 */
	overflow(modelId: string, text: string): PromptOverflow | null {
		const window = this.#windows[modelId];
		if (!window || utf8.encode(text).length <= promptRoom(window)) return null;
		const tokenizer = this.#tokenizers[modelId];
		if (tokenizer) return tokenizer.overflow(text);
		this.#request(modelId, window);
		return null;
	}

	#request(modelId: string, window: PromptWindow) {
		if (this.#requested.has(modelId)) return;
		this.#requested.add(modelId);
		// Later, never while a derived value is being computed; a failure just means no warning.
		void this.#load(window).then(
			(tokenizer) => (this.#tokenizers = { ...this.#tokenizers, [modelId]: tokenizer }),
			() => {}
		);
	}
}
