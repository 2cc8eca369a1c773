// The built-in models: every deployment offers them, each from its own static/models/<id>/
// folder. Nothing here reads a model's bytes: a new export replaces its folder, and everything
// must follow whatever its manifest says.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelManifest } from '../schemas/manifest';
import { publicModel } from '../schemas/cost';
import { BUILTIN_MODEL_IDS, builtinManifestPath, DEFAULT_MODEL_ID } from './builtin';
import { builtinModels, ModelRegistry } from './registry';

const fromDisk = (id: string) => ModelManifest.parse(JSON.parse(readFileSync(new URL(`../../../static/${builtinManifestPath(id)}`, import.meta.url), 'utf8')));

describe('built-in models', () => {
	it('are the demo model and the objects model, the demo first (the default)', () => {
		expect(builtinModels().map((m) => m.id)).toEqual(['demo', 'objects']);
		expect([...BUILTIN_MODEL_IDS]).toEqual(['demo', 'objects']);
		expect(DEFAULT_MODEL_ID).toBe('demo');
		expect(new ModelRegistry(builtinModels()).public()[0].id).toBe(DEFAULT_MODEL_ID);
	});

	it('are the manifests the app serves, each in the folder of its id', () => {
		for (const m of builtinModels()) {
			expect(builtinManifestPath(m.id)).toBe(`models/${m.id}/manifest.json`);
			expect(fromDisk(m.id)).toEqual(m);
		}
	});

	it('offer variations only where the manifest lists a VAE encoder (the objects model has none)', () => {
		const byId = Object.fromEntries(builtinModels().map((m) => [m.id, publicModel(m)]));
		expect(byId.demo.variations).toBe(true);
		expect(byId.objects.variations).toBe(false);
		expect(builtinModels().find((m) => m.id === 'objects')!.io.vaeEncoder).toBeUndefined();
	});

	it('each have example prompts of their own, as the /image page shows them', () => {
		const byId = Object.fromEntries(builtinModels().map((m) => [m.id, publicModel(m)]));
		expect(byId.demo.examples).toContain('a red circle on a blue background');
		expect(byId.objects.examples).toContain('a red apple on a blue background');
		expect(byId.objects.examples).toContain('a big rocket in the top left corner on a yellow background');
		for (const m of Object.values(byId)) {
			expect(m.examples!.length).toBeGreaterThan(0);
			expect(m.description).toBeTruthy();
		}
		expect(byId.objects.examples).not.toEqual(byId.demo.examples);
	});
});
