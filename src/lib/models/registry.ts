// The models the service offers, usable on both sides: the browser quotes with the same
// list the server charges with. The built-in models' manifests are the files the app serves
// (static/models/<id>/manifest.json), read as they are: nothing here depends on their bytes,
// so a newly exported model replaces its folder and nothing else.
import demoManifestJson from '../../../static/models/demo/manifest.json';
import objectsManifestJson from '../../../static/models/objects/manifest.json';
import { ModelManifest } from '../schemas/manifest';
import { paramsSchemaFor, publicModel, type PublicModel } from '../schemas/generation';
import { BUILTIN_MODEL_IDS } from './builtin';

export const demoManifest: ModelManifest = ModelManifest.parse(demoManifestJson);
export const objectsManifest: ModelManifest = ModelManifest.parse(objectsManifestJson);

const BUILTIN: readonly ModelManifest[] = [demoManifest, objectsManifest];
// A manifest in the wrong folder (a copy not renamed) would be served under one id and
// dispatched under another: refuse to start rather than route jobs to the wrong model.
for (const [i, m] of BUILTIN.entries()) {
	if (m.id !== BUILTIN_MODEL_IDS[i]) throw new Error(`static/models/${BUILTIN_MODEL_IDS[i]}/manifest.json says id "${m.id}"`);
}

export class ModelRegistry {
	#models = new Map<string, ModelManifest>();
	#paramsSchema: ReturnType<typeof paramsSchemaFor> | null = null;

	constructor(manifests: ModelManifest[]) {
		for (const m of manifests) this.add(m);
	}

	/** Adds or replaces a model (SD-Turbo is added on the server when it is configured). */
	add(manifest: ModelManifest) {
		this.#models.set(manifest.id, manifest);
		this.#paramsSchema = null;
	}

	get(id: string): ModelManifest | undefined {
		return this.#models.get(id);
	}

	list(): ModelManifest[] {
		return [...this.#models.values()];
	}

	public(): PublicModel[] {
		return this.list().map(publicModel);
	}

	/** What a request's params must be for these models, built once: building the schema costs a submit ten times what checking with it does. */
	paramsSchema() {
		return (this.#paramsSchema ??= paramsSchemaFor(this.public()));
	}
}

/** The models every deployment has, the default (demo) first; the server's registry starts from these. */
export function builtinModels(): ModelManifest[] {
	return [...BUILTIN];
}
