// The server's model list: the built-in demo model, plus SD-Turbo when SDTURBO_BASE_URL
// points at its ONNX files (with a files.json of their hashes beside them).
import { readFile } from 'node:fs/promises';
import { builtinModels, ModelRegistry } from '$lib/models/registry';
import { fetchBytes, loadModelFile, type FetchBytes } from '$lib/diffusion/manifest';
import { loadSdTurboManifest } from '$lib/diffusion/sdturbo';
import type { PromptWindow } from '$lib/diffusion/prompt-window';
import type { ModelManifest } from '$lib/schemas/manifest';

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

/** A file URL with a scheme (SD-Turbo's, under SDTURBO_BASE_URL) is not the app's own. */
const isRemote = (url: string) => /^[a-z][a-z0-9+.-]*:/i.test(url);

/**
 * What the /image page needs to warn about a prompt longer than the model reads: the window
 * (the manifest's tokenizer settings) and a same-origin URL of its tokenizer.json: the app's
 * own /models/<id>/ for a model it ships, else the tokenizer route (pages talk to this origin only).
 */
export function promptWindow(m: ModelManifest): PromptWindow {
	const url = m.files.tokenizer.url;
	return { ...m.tokenizer, tokenizerUrl: isRemote(url) ? `/api/models/${m.id}/tokenizer` : `/models/${m.id}/${url}` };
}

const remoteTokenizers = new Map<string, Promise<Uint8Array>>();

/**
 * A remote model's tokenizer.json, fetched once per process and checked against its manifest's
 * sha256; null for a model the app ships. A failed fetch is forgotten after a minute, so a mirror
 * that was down is asked again, but not once per request.
 */
export function remoteTokenizer(m: ModelManifest): Promise<Uint8Array> | null {
	if (!isRemote(m.files.tokenizer.url)) return null;
	let bytes = remoteTokenizers.get(m.id);
	if (!bytes) {
		bytes = loadModelFile(m, m.files.tokenizer.url, 'tokenizer', serverFetch);
		remoteTokenizers.set(m.id, bytes);
		bytes.catch(() => setTimeout(() => remoteTokenizers.delete(m.id), 60_000).unref());
	}
	return bytes;
}
