// The models the service offers, usable on both sides: the browser quotes with the same
// list the server charges with. The demo model's manifest is the file the app serves.
import demoManifestJson from '../../../static/models/demo/manifest.json';
import { ModelManifest } from '../schemas/manifest';
import { publicModel, type PublicModel } from '../schemas/generation';

export const demoManifest: ModelManifest = ModelManifest.parse(demoManifestJson);

export class ModelRegistry {
	#models = new Map<string, ModelManifest>();

	constructor(manifests: ModelManifest[]) {
		for (const m of manifests) this.add(m);
	}

	/** Adds or replaces a model (SD-Turbo is added on the server when it is configured). */
	add(manifest: ModelManifest) {
		this.#models.set(manifest.id, manifest);
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
}

/** The models every deployment has; the server's registry starts from these. */
export function builtinModels(): ModelManifest[] {
	return [demoManifest];
}
