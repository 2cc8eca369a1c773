import { describe, expect, it } from 'vitest';
import { BUILTIN_MODEL_IDS } from '../lib/models/builtin';
import { BUILTIN_MODELS as STARTED_BY_NPM_START } from '../../server/builtin-island.js';
import { modelUrls } from './model-urls';

describe('the headless Island’s models', () => {
	it('are every built-in model from the broker by default', () => {
		expect(modelUrls({ url: 'http://localhost:3000/' })).toEqual(['http://localhost:3000/models/demo/manifest.json', 'http://localhost:3000/models/objects/manifest.json']);
		expect(modelUrls({ url: 'https://broker.example/base', env: '' })).toEqual(['https://broker.example/base/models/demo/manifest.json', 'https://broker.example/base/models/objects/manifest.json']);
	});

	it('are only those named by --model, else by ISLAND_MODELS', () => {
		expect(modelUrls({ url: 'http://b', cli: ['static/models/objects/manifest.json'], env: 'http://x/m.json' })).toEqual(['static/models/objects/manifest.json']);
		expect(modelUrls({ url: 'http://b', env: ' http://x/a.json, ,http://x/b.json ' })).toEqual(['http://x/a.json', 'http://x/b.json']);
	});

	it('are every built-in model for npm start’s built-in Island too', () => {
		expect(STARTED_BY_NPM_START).toEqual([...BUILTIN_MODEL_IDS]);
	});
});
