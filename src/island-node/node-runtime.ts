// Node side of the pipeline: onnxruntime-node (CPU) and file:/http(s) model loading. Used by
// the headless Island, the benchmark and the tests; never imported by browser code.
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { ModelManifest } from '../lib/schemas/manifest';
import { fetchBytes, loadManifest, loadModelAssets, type FetchBytes } from '../lib/diffusion/manifest';
import { DiffusionPipeline, runtimeFromOrt, type DiffusionRuntime } from '../lib/diffusion/pipeline';

export const nodeFetchBytes: FetchBytes = async (url) =>
	url.protocol === 'file:' ? new Uint8Array(await readFile(url)) : fetchBytes(url);

export function nodeRuntime(opts: { threads?: number } = {}): DiffusionRuntime {
	return runtimeFromOrt(ort, {
		executionProviders: ['cpu'],
		graphOptimizationLevel: 'all',
		...(opts.threads ? { intraOpNumThreads: opts.threads } : {})
	});
}

/** A path or URL → URL (paths are resolved against the working directory). */
export function toUrl(pathOrUrl: string | URL): URL {
	if (pathOrUrl instanceof URL) return pathOrUrl;
	return /^[a-z][a-z0-9+.-]*:/i.test(pathOrUrl) ? new URL(pathOrUrl) : new URL(pathOrUrl, `file://${process.cwd()}/`);
}

export interface LoadedModel {
	manifest: ModelManifest;
	pipeline: DiffusionPipeline;
}

/**
 * Loads a model by its manifest URL; `manifest` may be given when it was built in code
 * (SD-Turbo), its file URLs then resolve against `manifestUrl`.
 */
export async function loadNodeModel(manifestUrl: string | URL, manifest?: ModelManifest, opts: { threads?: number } = {}): Promise<LoadedModel> {
	const url = toUrl(manifestUrl);
	const m = manifest ?? (await loadManifest(url, nodeFetchBytes));
	const assets = await loadModelAssets(m, url, nodeFetchBytes);
	return { manifest: m, pipeline: await DiffusionPipeline.create(m, assets, nodeRuntime(opts)) };
}
