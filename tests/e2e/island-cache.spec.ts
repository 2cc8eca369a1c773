// (d) The model is downloaded once: a reload reads it from this browser's storage (no model
// bytes fetched), a corrupted or outdated entry is fetched again, and clearing empties it.
import type { Page } from '@playwright/test';
import { expect, openIsland, test } from './island-fixtures';

const KEYS = ['textEncoder', 'unet', 'vaeDecoder', 'tokenizer', 'vaeEncoder'] as const;

/** Model file requests (the manifest itself is always read: it names the current hashes). */
function watchModelRequests(page: Page): string[] {
	const seen: string[] = [];
	page.on('request', (r) => {
		const path = new URL(r.url()).pathname;
		if (path.startsWith('/models/') && !path.endsWith('/manifest.json')) seen.push(path);
	});
	return seen;
}

async function loadModel(page: Page) {
	await expect(page.getByTestId('webgpu-summary')).not.toHaveText('Checking for WebGPU…');
	await page.getByLabel('WASM (your CPU)').check();
	await page.getByRole('button', { name: 'Load the model' }).click();
	await expect(page.getByTestId('island-status')).toHaveText('Ready', { timeout: 60_000 });
}

const sources = (page: Page) => Promise.all(KEYS.map((k) => page.getByTestId(`file-${k}`).getAttribute('data-source')));

test('a reload takes the model from the cache; corrupted and outdated files are fetched again', async ({ page }) => {
	await openIsland(page, 'wasm');
	const first = watchModelRequests(page);
	await loadModel(page);
	expect(first.sort()).toEqual(['/models/demo/text_encoder.onnx', '/models/demo/tokenizer.json', '/models/demo/unet.onnx', '/models/demo/vae_decoder.onnx', '/models/demo/vae_encoder.onnx']);
	expect(await sources(page)).toEqual(['network', 'network', 'network', 'network', 'network']);
	await expect(page.getByTestId('storage-used')).toHaveText(/^\d+\.\d MB$/);

	await page.reload();
	const second = watchModelRequests(page);
	await loadModel(page);
	expect(second).toEqual([]);
	expect(await sources(page)).toEqual(['cache', 'cache', 'cache', 'cache', 'cache']);

	// Corrupt the UNet's bytes in Cache Storage and mark the text encoder as an older version.
	await page.evaluate(async () => {
		const cache = await caches.open('archipelago-models-v1');
		const unet = new URL('/models/demo/unet.onnx', location.origin).href;
		const bytes = new Uint8Array(await (await cache.match(unet))!.arrayBuffer());
		bytes[bytes.length >> 1] ^= 0xff;
		await cache.put(unet, new Response(bytes));
		await new Promise<void>((resolve, reject) => {
			const open = indexedDB.open('archipelago-island');
			open.onerror = () => reject(open.error);
			open.onsuccess = () => {
				const store = open.result.transaction('files', 'readwrite').objectStore('files');
				const url = new URL('/models/demo/text_encoder.onnx', location.origin).href;
				const get = store.get(url);
				get.onsuccess = () => {
					const put = store.put({ ...get.result, sha256: '0'.repeat(64), version: 'old' });
					put.onsuccess = () => resolve();
					put.onerror = () => reject(put.error);
				};
			};
		});
	});
	await page.reload();
	const third = watchModelRequests(page);
	await loadModel(page);
	expect(third.sort()).toEqual(['/models/demo/text_encoder.onnx', '/models/demo/unet.onnx']);
	expect(await sources(page)).toEqual(['network', 'network', 'cache', 'cache', 'cache']);

	await page.getByRole('button', { name: 'Clear stored models' }).click();
	await expect(page.getByTestId('storage-used')).toHaveText('0 kB');
});
