import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTokenizer } from './tokenizer';

const tiny = JSON.parse(readFileSync(new URL('../../../tests/fixtures/tiny/demo/tokenizer.json', import.meta.url), 'utf8'));
const demoPath = new URL('../../../static/models/demo/tokenizer.json', import.meta.url);
const settings = { maxLength: 24, padId: 0, bosId: null, eosId: null };

describe('tokenizer', () => {
	const tok = createTokenizer(tiny, settings);
	const id = (w: string) => tiny.model.vocab[w] as number;

	it('maps known words, lowercases, pads to maxLength', () => {
		const ids = tok.encode('A Red CIRCLE on a blue background');
		expect(ids).toHaveLength(24);
		expect(ids.slice(0, 7)).toEqual(['a', 'red', 'circle', 'on', 'a', 'blue', 'background'].map(id));
		expect(ids.slice(7).every((x) => x === 0)).toBe(true);
		expect(tok.encode('')).toEqual(new Array(24).fill(0));
	});

	it('maps unknown words to [UNK] = 1 and names them', () => {
		const ids = tok.encode('a mauve zigzag on red');
		expect(ids.slice(0, 5)).toEqual([id('a'), 1, 1, id('on'), id('red')]);
		// A known prefix must not leak through as a sub-word: "reddish" is unknown, not "red".
		expect(tok.encode('reddish')[0]).toBe(1);
		expect(tok.unknownWords('A Mauve circle, zigzag')).toEqual(['mauve', ',', 'zigzag']);
	});

	it('truncates and wraps with bos/eos (CLIP style)', () => {
		const long = Array(40).fill('red').join(' ');
		expect(tok.encode(long)).toEqual(new Array(24).fill(id('red')));
		const clip = createTokenizer(tiny, { maxLength: 6, padId: 0, bosId: 49406, eosId: 49407 });
		expect(clip.encode('red circle')).toEqual([49406, id('red'), id('circle'), 49407, 0, 0]);
		expect(clip.encode(long)).toEqual([49406, id('red'), id('red'), id('red'), id('red'), 49407]);
	});

	it('refuses WordLevel tokenizers (unsupported by @huggingface/tokenizers 0.2)', () => {
		expect(() => createTokenizer({ ...tiny, model: { type: 'WordLevel', vocab: {}, unk_token: '[UNK]' } }, settings)).toThrow(/WordLevel/);
	});

	// The demo model's own vocabulary, once tools/demo-model has exported it.
	it.runIf(existsSync(demoPath))('demo tokenizer.json knows the training vocabulary', () => {
		const demo = JSON.parse(readFileSync(demoPath, 'utf8'));
		const manifest = JSON.parse(readFileSync(new URL('manifest.json', demoPath), 'utf8'));
		const t = createTokenizer(demo, manifest.tokenizer);
		const vocab = Object.keys(demo.model.vocab).filter((w) => !w.startsWith('['));
		for (const w of vocab) expect(t.unknownWords(w)).toEqual([]);
		expect(t.unknownWords('a red circle on a blue background')).toEqual([]);
		expect(t.encode('a red circle on a blue background')).not.toContain(demo.model.vocab['[UNK]']);
		expect(t.unknownWords('a glorbish thing')).toContain('glorbish');
	});

	// Ids computed by the training code itself (tools/tokenizer-cases/make.py → dataset.py).
	const casesPath = new URL('../../../tests/fixtures/demo-tokenizer-cases.json', import.meta.url);
	it.runIf(existsSync(demoPath) && existsSync(casesPath))('gives the ids the demo model was trained with', () => {
		const demo = JSON.parse(readFileSync(demoPath, 'utf8'));
		const manifest = JSON.parse(readFileSync(new URL('manifest.json', demoPath), 'utf8'));
		const { vocabSize, cases } = JSON.parse(readFileSync(casesPath, 'utf8')) as { vocabSize: number; cases: { prompt: string; ids: number[] }[] };
		const t = createTokenizer(demo, manifest.tokenizer);
		expect(t.vocabSize).toBe(vocabSize);
		const wrong = cases.filter((c) => JSON.stringify(t.encode(c.prompt)) !== JSON.stringify(c.ids));
		expect(wrong.map((c) => ({ ...c, got: t.encode(c.prompt) }))).toEqual([]);
	});

	describe('overflow: the words a model will not read', () => {
		it('is null while the prompt fits, however it is spelt', () => {
			expect(tok.overflow('')).toBeNull();
			expect(tok.overflow(Array(24).fill('RED').join('   '))).toBeNull();
		});

		it('names the words past the window as typed, from the first one that does not fit whole', () => {
			// 7 tokens a time: 3 × 7 + "a red circle" fill the 24; the rest is dropped.
			const prompt = Array(4).fill('A Red circle on a blue background').join(' ');
			expect(tok.overflow(prompt)).toEqual({ tokens: 28, room: 24, ignored: 'on a blue background' });
			// Unknown words still take a token each; a word split into tokens across the edge is dropped whole.
			expect(tok.overflow(`${Array(23).fill('zorp').join(' ')} red,blue green`)).toEqual({ tokens: 27, room: 24, ignored: 'red,blue green' });
			expect(tok.overflow(`${Array(25).fill('red').join('\n')}`)).toEqual({ tokens: 25, room: 24, ignored: 'red' });
		});

		it('leaves room for bos and eos (CLIP: 77 − 2)', () => {
			const clip = createTokenizer(tiny, { maxLength: 6, padId: 0, bosId: 49406, eosId: 49407 });
			expect(clip.overflow('red circle on blue')).toBeNull();
			expect(clip.overflow('red circle on blue background')).toEqual({ tokens: 5, room: 4, ignored: 'background' });
			// Agrees with what encode keeps: everything before the ignored words, and nothing of them.
			expect(clip.encode('red circle on blue background')).toEqual(clip.encode('red circle on blue'));
		});

		it.runIf(existsSync(demoPath))('counts with the demo model\'s own tokenizer and window (24 tokens)', () => {
			const demo = JSON.parse(readFileSync(demoPath, 'utf8'));
			const manifest = JSON.parse(readFileSync(new URL('manifest.json', demoPath), 'utf8'));
			const t = createTokenizer(demo, manifest.tokenizer);
			expect(t.overflow('a small yellow star in the top left corner, green background')).toBeNull();
			const long = 'a small yellow star in the top left corner, green background, and a large red heart in the bottom right corner on a purple backdrop';
			const cut = t.overflow(long)!;
			expect(cut).toEqual({ tokens: 27, room: 24, ignored: 'a purple backdrop' });
			expect(t.encode(long)).toEqual(t.encode(long.slice(0, long.length - cut.ignored.length)));
		});
	});
});
