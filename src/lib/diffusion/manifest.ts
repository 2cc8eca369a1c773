// Loading a model: its manifest (validated once at the boundary), then its files, each
// checked against the manifest's sha256 so a cache or mirror can't swap weights silently.
import { ModelManifest } from '../schemas/manifest';

export type FileKey = keyof ModelManifest['files'];
export const FILE_KEYS: readonly FileKey[] = ['textEncoder', 'unet', 'vaeDecoder', 'tokenizer', 'vaeEncoder'];

/** The keys of the files this manifest lists (the VAE encoder is optional). */
export function fileKeysOf(manifest: ModelManifest): FileKey[] {
	return FILE_KEYS.filter((key) => manifest.files[key] !== undefined);
}

/** Fetches bytes for a URL. Browsers pass `fetch`-based code; Node adds file: support. */
export type FetchBytes = (url: URL) => Promise<Uint8Array>;

export const fetchBytes: FetchBytes = async (url) => {
	const res = await fetch(url);
	if (!res.ok) throw new Error(`GET ${url.href}: HTTP ${res.status}`);
	return new Uint8Array(await res.arrayBuffer());
};

export function parseManifest(json: unknown): ModelManifest {
	const parsed = ModelManifest.safeParse(json);
	if (!parsed.success) {
		const first = parsed.error.issues[0];
		throw new Error(`invalid model manifest: ${first.path.join('.')}: ${first.message}`);
	}
	return parsed.data;
}

export async function loadManifest(url: string | URL, get: FetchBytes = fetchBytes): Promise<ModelManifest> {
	const bytes = await get(new URL(url));
	return parseManifest(JSON.parse(new TextDecoder().decode(bytes)));
}

/** A file's URL: relative to the manifest's own URL, or absolute. */
export function resolveFileUrl(manifestUrl: string | URL, fileUrl: string): URL {
	return new URL(fileUrl, manifestUrl);
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
	// Copy into a plain ArrayBuffer: WebCrypto rejects views over SharedArrayBuffer.
	const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes.slice().buffer);
	return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface ModelAssets {
	textEncoder: Uint8Array;
	unet: Uint8Array;
	vaeDecoder: Uint8Array;
	/** Only where the manifest lists one: variations need it. */
	vaeEncoder?: Uint8Array;
	/** Parsed tokenizer.json. */
	tokenizer: unknown;
}

async function verifyFile(manifest: ModelManifest, key: FileKey, bytes: Uint8Array): Promise<void> {
	const want = manifest.files[key]!;
	if (bytes.length !== want.bytes) throw new Error(`${key}: ${bytes.length} bytes, manifest says ${want.bytes}`);
	const got = await sha256Hex(bytes);
	if (got !== want.sha256) throw new Error(`${key}: sha256 ${got} does not match the manifest`);
}

/** Fetches one file of a model and verifies it. */
export async function loadModelFile(manifest: ModelManifest, manifestUrl: string | URL, key: FileKey, get: FetchBytes = fetchBytes): Promise<Uint8Array> {
	const file = manifest.files[key];
	if (!file) throw new Error(`${key}: not in the manifest`);
	const bytes = await get(resolveFileUrl(manifestUrl, file.url));
	await verifyFile(manifest, key, bytes);
	return bytes;
}

/** Fetches and verifies the files of a model. */
export async function loadModelAssets(
	manifest: ModelManifest,
	manifestUrl: string | URL,
	get: FetchBytes = fetchBytes
): Promise<ModelAssets> {
	const files = {} as Partial<Record<FileKey, Uint8Array>>;
	await Promise.all(
		fileKeysOf(manifest).map(async (key) => {
			files[key] = await loadModelFile(manifest, manifestUrl, key, get);
		})
	);
	return assetsFrom(files);
}

/** The loaded files as the pipeline takes them (the tokenizer parsed). */
export function assetsFrom(files: Partial<Record<FileKey, Uint8Array>>): ModelAssets {
	const { textEncoder, unet, vaeDecoder, tokenizer, vaeEncoder } = files;
	if (!textEncoder || !unet || !vaeDecoder || !tokenizer) throw new Error('a model needs its text encoder, UNet, VAE decoder and tokenizer');
	return { textEncoder, unet, vaeDecoder, vaeEncoder, tokenizer: JSON.parse(new TextDecoder().decode(tokenizer)) };
}
