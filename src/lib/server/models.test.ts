import { describe, expect, it } from 'vitest';
import { tinyUrl } from '../../../tests/helpers/tiny-models';
import { serverModels } from './models';
import { demoManifest, ModelRegistry, objectsManifest } from '$lib/models/registry';

describe('server model list', () => {
	it('is the built-in models (demo, objects) without SDTURBO_BASE_URL', async () => {
		expect((await serverModels({})).list().map((m) => m.id)).toEqual(['demo', 'objects']);
	});

	it('adds SD-Turbo with file URLs under SDTURBO_BASE_URL', async () => {
		const base = tinyUrl('sdturbo').href;
		const reg = await serverModels({ SDTURBO_BASE_URL: base });
		expect(reg.list().map((m) => m.id)).toEqual(['demo', 'objects', 'sd-turbo']);
		expect(reg.get('sd-turbo')!.files.unet.url).toBe(`${base}unet.onnx`);
		expect(reg.public().find((m) => m.id === 'sd-turbo')).toMatchObject({ sizes: [[512, 512]], costWeight: 2 });
	});

	it('keeps serving the built-in models when SD-Turbo is misconfigured', async () => {
		const reg = await serverModels({ SDTURBO_BASE_URL: 'file:///nonexistent/sd-turbo/' });
		expect(reg.list().map((m) => m.id)).toEqual(['demo', 'objects']);
	});

	it("checks a request's params against the models it has now, its schema built once between changes", () => {
		const reg = new ModelRegistry([demoManifest]);
		const objects = { prompt: 'a cat', model: 'objects', width: objectsManifest.sizes[0][0], height: objectsManifest.sizes[0][1], steps: objectsManifest.steps.standard[0] };
		expect(reg.paramsSchema()).toBe(reg.paramsSchema());
		expect(reg.paramsSchema().safeParse(objects).success).toBe(false);
		reg.add(objectsManifest);
		expect(reg.paramsSchema().safeParse(objects).success).toBe(true);
	});
});
