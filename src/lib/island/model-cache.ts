// The browser Island's model store: file bytes in Cache Storage, what we know about them
// (which model, which sha256, how big) in IndexedDB. Every read is checked against the
// manifest's sha256, so a corrupted entry or a file from an older model version is fetched
// again rather than run. Works in the worker (downloads) and on the page (usage, clear).
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ModelManifest } from '../schemas/manifest';
import { assetsFrom, fileKeysOf, resolveFileUrl, sha256Hex, type FileKey, type ModelAssets } from '../diffusion/manifest';

const CACHE_NAME = 'archipelago-models-v1';
const DB_NAME = 'archipelago-island';

export interface StoredFile {
	/** Absolute URL: the Cache Storage key too. */
	url: string;
	model: string;
	version: string;
	key: FileKey;
	sha256: string;
	bytes: number;
	storedAt: number;
}

interface IslandDb extends DBSchema {
	files: { key: string; value: StoredFile };
}

export interface FileProgress {
	/** The model the file belongs to (the Island loads several, one after another). */
	model: string;
	key: FileKey;
	url: string;
	loaded: number;
	total: number;
	/** 'cache' when the verified local copy was used: no bytes crossed the network. */
	source: 'cache' | 'network';
	done: boolean;
}

let dbPromise: Promise<IDBPDatabase<IslandDb>> | undefined;
function db() {
	dbPromise ??= openDB<IslandDb>(DB_NAME, 1, {
		upgrade(d) {
			d.createObjectStore('files', { keyPath: 'url' });
		}
	});
	return dbPromise;
}

/** Reads a response body while reporting bytes so far (Content-Length may be absent). */
async function readWithProgress(res: Response, onBytes: (n: number) => void): Promise<Uint8Array> {
	if (!res.body) return new Uint8Array(await res.arrayBuffer());
	const reader = res.body.getReader();
	const chunks: Uint8Array[] = [];
	let n = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		chunks.push(value);
		n += value.length;
		onBytes(n);
	}
	const out = new Uint8Array(n);
	let at = 0;
	for (const c of chunks) (out.set(c, at), (at += c.length));
	return out;
}

async function cached(url: string, want: { sha256: string; bytes: number }): Promise<Uint8Array | null> {
	const meta = await (await db()).get('files', url);
	// An entry for another sha256 is an older version of the model: not worth hashing.
	if (!meta || meta.sha256 !== want.sha256) return null;
	const res = await (await caches.open(CACHE_NAME)).match(url);
	if (!res) return null;
	const bytes = new Uint8Array(await res.arrayBuffer());
	if (bytes.length !== want.bytes || (await sha256Hex(bytes)) !== want.sha256) return null;
	return bytes;
}

async function store(manifest: ModelManifest, key: FileKey, url: string, bytes: Uint8Array): Promise<void> {
	const f = manifest.files[key]!;
	const cache = await caches.open(CACHE_NAME);
	await cache.put(url, new Response(bytes.slice().buffer, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) } }));
	await (await db()).put('files', { url, model: manifest.id, version: manifest.version, key, sha256: f.sha256, bytes: f.bytes, storedAt: Date.now() });
}

async function loadFile(manifest: ModelManifest, manifestUrl: string, key: FileKey, onProgress: (p: FileProgress) => void): Promise<Uint8Array> {
	const f = manifest.files[key]!;
	const url = resolveFileUrl(manifestUrl, f.url).href;
	const model = manifest.id;
	const local = await cached(url, f);
	if (local) {
		onProgress({ model, key, url, loaded: f.bytes, total: f.bytes, source: 'cache', done: true });
		return local;
	}
	onProgress({ model, key, url, loaded: 0, total: f.bytes, source: 'network', done: false });
	// no-store: the HTTP cache could hand back the very bytes that failed verification.
	const res = await fetch(url, { cache: 'no-store' });
	if (!res.ok) throw new Error(`downloading ${key}: HTTP ${res.status}`);
	const bytes = await readWithProgress(res, (n) => onProgress({ model, key, url, loaded: n, total: f.bytes, source: 'network', done: false }));
	if (bytes.length !== f.bytes) throw new Error(`${key}: got ${bytes.length} bytes, the manifest says ${f.bytes}`);
	const got = await sha256Hex(bytes);
	if (got !== f.sha256) throw new Error(`${key}: sha256 ${got.slice(0, 12)}… does not match the manifest`);
	await store(manifest, key, url, bytes);
	onProgress({ model, key, url, loaded: bytes.length, total: f.bytes, source: 'network', done: true });
	return bytes;
}

/** The files of a model, from the verified local copy where possible. */
export async function loadCachedModel(manifest: ModelManifest, manifestUrl: string, onProgress: (p: FileProgress) => void = () => {}): Promise<ModelAssets> {
	// One at a time: the progress bar reads file by file, and two cores gain nothing in parallel.
	const files = {} as Partial<Record<FileKey, Uint8Array>>;
	for (const key of fileKeysOf(manifest)) files[key] = await loadFile(manifest, manifestUrl, key, onProgress);
	await forgetOtherVersions(manifest, manifestUrl);
	return assetsFrom(files);
}

/** Drops entries of this model whose URL the current manifest no longer lists. */
async function forgetOtherVersions(manifest: ModelManifest, manifestUrl: string): Promise<void> {
	const current = new Set(fileKeysOf(manifest).map((k) => resolveFileUrl(manifestUrl, manifest.files[k]!.url).href));
	const d = await db();
	const cache = await caches.open(CACHE_NAME);
	for (const f of await d.getAll('files')) {
		if (f.model === manifest.id && !current.has(f.url)) (await cache.delete(f.url), await d.delete('files', f.url));
	}
}

/**
 * Drops the stored files of models other than `keep`: a model the app no longer offers. Called
 * only after every offered model loaded, so a model that failed to load this time (a network
 * error) keeps its verified copy for the next try.
 */
export async function forgetModelsExcept(keep: readonly string[]): Promise<void> {
	const d = await db();
	const cache = await caches.open(CACHE_NAME);
	for (const f of await d.getAll('files')) {
		if (!keep.includes(f.model)) (await cache.delete(f.url), await d.delete('files', f.url));
	}
}

export interface StorageUsage {
	/** Model bytes this app keeps, all models together. */
	modelBytes: number;
	/** The same by model id, for the per-model lines of /island. */
	byModel: Record<string, number>;
	files: StoredFile[];
	/** The browser's estimate for the whole origin, where offered. */
	originUsage?: number;
	originQuota?: number;
}

export async function storageUsage(): Promise<StorageUsage> {
	const files = await (await db()).getAll('files');
	const est = await navigator.storage?.estimate?.().catch(() => undefined);
	const byModel: Record<string, number> = {};
	for (const f of files) byModel[f.model] = (byModel[f.model] ?? 0) + f.bytes;
	return { modelBytes: files.reduce((s, f) => s + f.bytes, 0), byModel, files, originUsage: est?.usage, originQuota: est?.quota };
}

/** Every model's files (the Island's "Clear stored models"): the next load fetches them again. */
export async function clearModels(): Promise<void> {
	await caches.delete(CACHE_NAME);
	await (await db()).clear('files');
}
