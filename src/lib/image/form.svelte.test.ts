import { describe, expect, it } from 'vitest';
import { builtinModels, demoManifest } from '$lib/models/registry';
import { costOf, publicModel } from '$lib/schemas/cost';
import { paramsSchemaFor } from '$lib/schemas/generation';
import { aspectGroups, GenerationForm, presetSteps } from './form.svelte';

const demo = publicModel(demoManifest);

function form() {
	const f = new GenerationForm([demo]);
	f.setSchema(paramsSchemaFor([demo]));
	return f;
}

describe('aspectGroups', () => {
	it('puts square first, then landscape, then portrait, each smallest first, covering every size once', () => {
		const groups = aspectGroups(demo);
		expect(groups[0]).toMatchObject({ key: '1:1', label: 'Square 1:1' });
		expect(groups[0].sizes[0]).toEqual([256, 256]);
		const kinds = groups.map((g) => g.label.split(' ')[0]);
		expect(kinds.indexOf('Portrait')).toBeGreaterThan(kinds.lastIndexOf('Landscape'));
		expect(groups.flatMap((g) => g.sizes).length).toBe(demo.sizes.length);
		for (const g of groups) {
			const [w, h] = g.key.split(':').map(Number);
			for (const [sw, sh] of g.sizes) expect(sw * h).toBe(sh * w);
		}
	});
});

describe('GenerationForm', () => {
	it('starts on the smallest size and the default steps, with a live quote from the shared cost function', () => {
		const f = form();
		expect([f.width, f.height, f.steps]).toEqual([256, 256, demo.steps.default]);
		f.steps = demo.steps.standard[0];
		expect(f.quote).toEqual({ cost: 10, tier: 'standard', count: 1, total: 10 });
		f.setQuality('high');
		expect(f.steps).toBe(presetSteps(demo, 'high'));
		expect(f.quote?.tier).toBe('high');
		expect(f.quote!.cost).toBeGreaterThanOrEqual(25);
	});

	it('quotes a batch as its images together, 1 to 4 of them', () => {
		const f = form();
		f.steps = demo.steps.standard[0];
		f.setCount(4);
		expect(f.quote).toEqual({ cost: 10, tier: 'standard', count: 4, total: 40 });
		for (const bad of [0, 5, 2.5, NaN]) f.setCount(bad);
		expect(f.count).toBe(4);
		// Reusing a job's settings keeps how many images the form asks for.
		f.apply({ prompt: 'a star', model: 'demo', width: 256, height: 256, steps: 4, seed: 7, guidance: 5 });
		expect(f.quote?.total).toBe(40);
	});

	it('shows the schema messages beside the fields once touched, not before', () => {
		const f = form();
		expect(f.valid).toBe(false); // empty prompt
		expect(f.shown('prompt')).toBeUndefined();
		f.touch('prompt');
		expect(f.shown('prompt')).toBe('Write a prompt.');
		f.prompt = 'a red circle on a blue background';
		f.steps = 99;
		f.showAll();
		expect(f.shown('prompt')).toBeUndefined();
		expect(f.shown('steps')).toMatch(/Steps must be 4–12 \(standard\) or 13–30/);
		expect(f.quote).toBeNull();
		f.steps = 4;
		f.seed = '-3';
		expect(f.shown('seed')).toMatch(/whole number from 0 to 4294967295/);
		f.seed = '';
		f.guidance = '40';
		expect(f.shown('guidance')).toBe('Guidance must be between 1 and 12.');
		f.guidance = 'lots';
		expect(f.shown('guidance')).toMatch(/Guidance is a number/);
		f.guidance = '7.5';
		expect(f.validParams?.guidance).toBe(7.5);
		f.guidance = '';
		f.seed = '';
		expect(f.valid).toBe(true);
		expect(f.validParams).toEqual({ prompt: 'a red circle on a blue background', model: 'demo', width: 256, height: 256, steps: 4 });
	});

	it('keeps the size class when the aspect ratio changes', () => {
		const f = form();
		f.selectSize('512x512');
		f.selectAspect('2:1');
		expect([f.width, f.height]).toEqual([512, 256]);
		f.selectAspect('1:1');
		expect([f.width, f.height]).toEqual([256, 256]);
	});

	it('a locked seed survives a submit, an unlocked one goes back to random; reuse locks it', () => {
		const f = form();
		f.seed = '42';
		f.afterSubmit();
		expect(f.seed).toBe('');
		f.seed = '42';
		f.seedLocked = true;
		f.afterSubmit();
		expect(f.seed).toBe('42');
		const g = form();
		g.apply({ prompt: 'a star', negativePrompt: 'red', model: 'demo', width: 320, height: 256, steps: 20, seed: 7, guidance: 5 });
		expect([g.prompt, g.negativePrompt, g.showNegative, g.width, g.height, g.steps, g.seed, g.seedLocked]).toEqual(['a star', 'red', true, 320, 256, 20, '7', true]);
		expect(g.aspect).toBe('5:4');
	});
});

describe('GenerationForm with two models', () => {
	it('keeps what still fits when the model changes and falls back to its defaults otherwise', () => {
		const turbo = { ...demo, id: 'sd-turbo', name: 'SD-Turbo', sizes: [[512, 512]] as [number, number][], steps: { standard: [1, 2] as [number, number], high: [3, 4] as [number, number], default: 1 }, costWeight: 2 };
		const f = new GenerationForm([demo, turbo]);
		f.setSchema(paramsSchemaFor([demo, turbo]));
		f.prompt = 'a cat';
		f.selectModel('sd-turbo');
		expect([f.modelId, f.width, f.height, f.steps]).toEqual(['sd-turbo', 512, 512, 1]);
		expect(f.valid).toBe(true);
		// The heavier model costs at least as much for the same tier.
		expect(f.quote!.cost).toBeGreaterThanOrEqual(10);
		f.selectModel('demo');
		expect([f.width, f.height]).toEqual([512, 512]);
		expect(f.steps).toBe(demo.steps.default);
	});
});

describe('GenerationForm with the built-in models', () => {
	const builtin = builtinModels().map(publicModel);
	const objects = builtin.find((m) => m.id === 'objects')!;

	function both(models = builtin) {
		const f = new GenerationForm(models);
		f.setSchema(paramsSchemaFor(models));
		return f;
	}

	it('starts on the demo model with its examples; choosing the objects model shows the objects examples', () => {
		const f = both();
		expect(f.models.map((m) => m.id)).toEqual(['demo', 'objects']);
		expect(f.modelId).toBe('demo');
		expect(f.examples).toContain('a red circle on a blue background');
		f.selectModel('objects');
		expect(f.modelId).toBe('objects');
		expect(f.examples).toEqual(objects.examples);
		expect(f.examples).toContain('a red apple on a blue background');
		expect(f.description).toBe(objects.description);
		f.prompt = 'a cat';
		expect(f.validParams?.model).toBe('objects');
		f.selectModel('demo');
		expect(f.examples).toContain('a red circle on a blue background');
	});

	it('has no examples for a model whose manifest gives none', () => {
		const f = both([{ ...objects, examples: undefined }]);
		expect(f.examples).toEqual([]);
	});

	it('quotes with the chosen model’s cost weight, live', () => {
		const heavy = { ...objects, costWeight: 2 };
		const f = both([demo, heavy]);
		f.steps = demo.steps.standard[0];
		expect(f.quote?.cost).toBe(10);
		f.selectModel('objects');
		f.steps = heavy.steps.standard[0];
		const [w, h] = [f.width, f.height];
		expect(f.quote?.cost).toBe(costOf(heavy, { width: w, height: h, steps: f.steps }).cost);
		expect(f.quote!.cost).toBeGreaterThan(10);
		f.selectModel('demo');
		expect(f.quote?.cost).toBe(10);
	});
});

