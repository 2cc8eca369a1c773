// Which models a headless Island offers: the manifests named by --model (repeatable), else by
// ISLAND_MODELS (comma-separated), else every built-in model from the broker it works for
// (src/lib/models/builtin.ts), so a volunteer's Island takes jobs of every model the broker
// ships without being told their names.
import { BUILTIN_MODEL_IDS, builtinManifestPath } from '../lib/models/builtin';

export function modelUrls(opts: { url: string; cli?: string[]; env?: string }): string[] {
	if (opts.cli?.length) return opts.cli;
	const fromEnv = opts.env?.split(',').map((s) => s.trim()).filter(Boolean);
	if (fromEnv?.length) return fromEnv;
	const base = opts.url.replace(/\/+$/, '');
	return BUILTIN_MODEL_IDS.map((id) => `${base}/${builtinManifestPath(id)}`);
}
