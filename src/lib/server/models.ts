// The server's model list: the built-in demo model, plus SD-Turbo when SDTURBO_BASE_URL
// points at its ONNX files (with a files.json of their hashes beside them).
import { readFile } from 'node:fs/promises';
import { builtinModels, ModelRegistry } from '$lib/models/registry';
import { fetchBytes, type FetchBytes } from '$lib/diffusion/manifest';
import { loadSdTurboManifest } from '$lib/diffusion/sdturbo';

const serverFetch: FetchBytes = async (url) => (url.protocol === 'file:' ? new Uint8Array(await readFile(url)) : fetchBytes(url));

export async function serverModels(env: NodeJS.ProcessEnv = process.env): Promise<ModelRegistry> {
	const registry = new ModelRegistry(builtinModels());
	if (env.SDTURBO_BASE_URL) {
		try {
			const turbo = await loadSdTurboManifest(env.SDTURBO_BASE_URL, serverFetch);
			if (turbo) registry.add(turbo);
		} catch (e) {
			// A bad mirror must not keep the service (and its demo model) from starting.
			console.error(`SD-Turbo disabled: ${e instanceof Error ? e.message : e}`);
		}
	}
	return registry;
}
