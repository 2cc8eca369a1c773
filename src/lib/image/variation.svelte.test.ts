import { describe, expect, it } from 'vitest';
import { demoManifest, objectsManifest } from '$lib/models/registry';
import { costOf, publicModel } from '$lib/schemas/cost';
import { paramsSchemaFor } from '$lib/schemas/generation';
import type { JobView } from '$lib/api/jobs';
import { canVary, imageIdOf, VariationDraft } from './variation.svelte';

const demo = publicModel(demoManifest);
const noEncoder = { ...demo, id: 'plain', variations: false };

function job(overrides: Partial<JobView> = {}): JobView {
	return {
		id: 'j1', status: 'completed', cost: 18, tier: 'standard', attempts: 1, createdAt: '', startedAt: null, finishedAt: null,
		failureCode: null, failureReason: null, refunded: 0, progress: null, verification: 'unchecked',
		imageUrl: '/api/images/img_123.png', imageDeletedAt: null, batchId: 'j1', batchIndex: 0,
		params: { prompt: 'a red circle on a blue background', negativePrompt: 'green', model: 'demo', width: 320, height: 256, steps: 12, seed: 5, guidance: 5 },
		...overrides
	};
}

describe('VariationDraft', () => {
	it('varies only finished pictures of a model with an encoder', () => {
		expect(imageIdOf('/api/images/img_123.png?exp=1&sig=x')).toBe('img_123');
		expect(canVary(job(), [demo])).toBe(true);
		expect(canVary(job({ status: 'running', imageUrl: null }), [demo])).toBe(false);
		expect(canVary(job({ params: { ...job().params, model: 'plain' } }), [demo, noEncoder])).toBe(false);
	});

	it('offers no variation of an objects picture (its manifest has no VAE encoder), and the server schema refuses one', () => {
		const objects = publicModel(objectsManifest);
		const picture = job({ params: { ...job().params, model: 'objects' } });
		expect(canVary(picture, [demo, objects])).toBe(false);
		const draft = new VariationDraft([demo, objects]);
		draft.open(picture);
		expect(draft.source).toBeNull();
		const asked = { prompt: 'a cat', model: 'objects', width: 256, height: 256, steps: 4, variation: { imageId: 'img_123', strength: 0.5 } };
		const issues = paramsSchemaFor([demo, objects]).safeParse(asked).error?.issues ?? [];
		expect(issues.map((i) => i.path.join('.'))).toEqual(['variation']);
	});

	it('keeps the picture’s settings, takes a new prompt, and quotes the steps it runs', () => {
		const draft = new VariationDraft([demo]);
		expect(draft.params).toBeNull();
		draft.open(job());
		expect(draft.params).toEqual({
			prompt: 'a red circle on a blue background', negativePrompt: 'green', model: 'demo', width: 320, height: 256, steps: 12, guidance: 5,
			variation: { imageId: 'img_123', strength: 0.5 }
		});
		// What the draft sends is what the server's schema accepts.
		expect(paramsSchemaFor([demo]).safeParse(draft.params).success).toBe(true);
		draft.prompt = ' a red circle on a green background ';
		draft.strength = 0.9;
		expect(draft.params).toMatchObject({ prompt: 'a red circle on a green background', variation: { strength: 0.9 } });
		expect(draft.stepsRun).toBe(10);
		const full = costOf(demo, { width: 320, height: 256, steps: 12 }).cost;
		expect(draft.quote?.cost).toBe(Math.ceil((full * 10) / 12));
		draft.close();
		expect(draft.params).toBeNull();
	});
});
