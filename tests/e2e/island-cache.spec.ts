// (d) Every built-in model is downloaded once: a reload reads them from this browser's storage
// (no model bytes fetched), a corrupted or outdated entry is fetched again, and clearing
// empties the store of both. The file lists come from the manifests, never from the bytes
// (the objects model's files are a stand-in until its trained export lands).
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, openIsland, test } from './island-fixtures';

const KEYS = ['textEncoder', 'unet', 'vaeDecoder', 'tokenizer', 'vaeEncoder'] as const;
const MODELS = ['demo', 'objects'] as const;
type Model = (typeof MODELS)[number];
const manifest = (id: Model) => JSON.parse(readFileSync(new URL(`../../static/models/${id}/manifest.json`, import.meta.url), 'utf8')) as { files: Partial<Record<(typeof KEYS)[number], { url: string }>> };
/** Each model's file keys and their paths, as its manifest lists them (objects: no VAE encoder). */
const FILES = MODELS.flatMap((id) => KEYS.filter((k) => manifest(id).files[k]).map((k) => ({ id, key: k, path: `/models/${id}/${manifest(id).files[k]!.url}` })));

/** Model file requests (the manifests themselves are always read: they name the current hashes). */
function watchModelRequests(page: Page): string[] {
	const seen: string[] = [];
	page.on('request', (r) => {
		const path = new URL(r.url()).pathname;
		if (path.startsWith('/models/') && !path.endsWith('/manifest.json')) seen.push(path);
	});
	return seen;
}

async function loadModels(page: Page) {
	await expect(page.getByTestId('webgpu-summary')).not.toHaveText('Checking for WebGPU…');
	await page.getByLabel('WASM (your CPU)').check();
	await page.getByRole('button', { name: 'Load the models' }).click();
	await expect(page.getByTestId('island-status')).toHaveText('Ready', { timeout: 90_000 });
}

const sources = (page: Page) => Promise.all(FILES.map((f) => page.getByTestId(`file-${f.id}-${f.key}`).getAttribute('data-source')));

test('both built-in models load once; a reload takes them from the cache; corrupted and outdated files are fetched again', async ({ page }) => {
	expect(FILES.filter((f) => f.id === 'objects').map((f) => f.key)).not.toContain('vaeEncoder');
	await openIsland(page, 'wasm');
	const first = watchModelRequests(page);
	await loadModels(page);
	expect(first.sort()).toEqual(FILES.map((f) => f.path).sort());
	expect(await sources(page)).toEqual(FILES.map(() => 'network'));
	await expect(page.getByTestId('island-model-demo')).toBeVisible();
	await expect(page.getByTestId('island-model-objects')).toContainText('no variations');
	await expect(page.getByTestId('model-failed')).toHaveCount(0);
	await expect(page.getByTestId('storage-used')).toHaveText(/^\d+\.\d MB$/);
	await expect(page.getByTestId('storage-by-model')).toHaveText(/^\(demo \d+\.\d MB, objects \d+\.\d MB\)$/);

	await page.reload();
	const second = watchModelRequests(page);
	await loadModels(page);
	expect(second).toEqual([]);
	expect(await sources(page)).toEqual(FILES.map(() => 'cache'));

	// Corrupt the demo UNet's bytes in Cache Storage and mark the objects text encoder as an older version.
	const demoUnet = FILES.find((f) => f.id === 'demo' && f.key === 'unet')!.path;
	const objectsEncoder = FILES.find((f) => f.id === 'objects' && f.key === 'textEncoder')!.path;
	await page.evaluate(
		async ([unetPath, encoderPath]) => {
			const cache = await caches.open('archipelago-models-v1');
			const unet = new URL(unetPath, location.origin).href;
			const bytes = new Uint8Array(await (await cache.match(unet))!.arrayBuffer());
			bytes[bytes.length >> 1] ^= 0xff;
			await cache.put(unet, new Response(bytes));
			await new Promise<void>((resolve, reject) => {
				const open = indexedDB.open('archipelago-island');
				open.onerror = () => reject(open.error);
				open.onsuccess = () => {
					const store = open.result.transaction('files', 'readwrite').objectStore('files');
					const get = store.get(new URL(encoderPath, location.origin).href);
					get.onsuccess = () => {
						const put = store.put({ ...get.result, sha256: '0'.repeat(64), version: 'old' });
						put.onsuccess = () => resolve();
						put.onerror = () => reject(put.error);
					};
				};
			});
		},
		[demoUnet, objectsEncoder]
	);
	await page.reload();
	const third = watchModelRequests(page);
	await loadModels(page);
	expect(third.sort()).toEqual([demoUnet, objectsEncoder].sort());
	expect(await sources(page)).toEqual(FILES.map((f) => (f.path === demoUnet || f.path === objectsEncoder ? 'network' : 'cache')));

	await page.getByRole('button', { name: 'Clear stored models' }).click();
	await expect(page.getByTestId('storage-used')).toHaveText('0 kB');
	await expect(page.getByTestId('storage-by-model')).toHaveCount(0);
});
