// The models every deployment ships, by id: each is a folder static/models/<id>/ served at
// /models/<id>/. A plain list (no manifests, no zod), so the headless Island's bundle and the
// browser Island can name them without loading them; registry.ts parses the manifests.

/** In the order the /image page lists them: the first is the default model. */
export const BUILTIN_MODEL_IDS = ['demo', 'objects'] as const;
export type BuiltinModelId = (typeof BUILTIN_MODEL_IDS)[number];

/** Where a form without a choice (or an old request without a model) starts. */
export const DEFAULT_MODEL_ID: BuiltinModelId = BUILTIN_MODEL_IDS[0];

/** The manifest's path under static/ and under the app's origin (without the leading slash). */
export function builtinManifestPath(id: string): string {
	return `models/${id}/manifest.json`;
}
