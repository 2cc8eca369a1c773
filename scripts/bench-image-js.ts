// `npm run bench:image-js`: the JavaScript a browser downloads to show /image, gzipped.
// It starts the production server, signs a user up, fetches /image as that user and follows
// what the HTML loads at once (modulepreload links, the inline boot script's imports) plus
// every static import of those chunks. Dynamic imports (loaded later, if ever) don't count.
// Budget: 60 KB gzip, and the inference runtime (onnxruntime-web) must not be among them.
// Writes bench-results/image-js.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { ensureBuild } from '../server/ensure-build.js';
import { startServer } from '../harness/server';
import { ApiClient } from '../harness/client';

const BUDGET_BYTES = 60 * 1024;
const root = new URL('..', import.meta.url);

ensureBuild();
const server = await startServer('pglite');
try {
	const client = new ApiClient(server.url);
	await client.signUp();
	const res = await client.request('GET', '/image');
	if (res.status !== 200) throw new Error(`GET /image answered ${res.status}`);
	const html = await res.text();

	// What the page asks for up front: modulepreload links (SvelteKit sends them in the Link
	// header; <link> tags too when prerendered), <script src> and the boot script's import("…")
	// calls. The service worker, registered after load, is not part of the page's JS.
	const initial = new Set<string>();
	for (const m of (res.headers.get('link') ?? '').matchAll(/<([^>]+)>;[^,]*rel="?modulepreload"?/g)) {
		initial.add(new URL(m[1], `${server.url}/image`).href);
	}
	for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]*>/g)) {
		const href = m[0].match(/href="([^"]+)"/)?.[1];
		if (href) initial.add(new URL(href, `${server.url}/image`).href);
	}
	for (const m of html.matchAll(/<script[^>]+src="([^"]+)"/g)) initial.add(new URL(m[1], `${server.url}/image`).href);
	for (const script of html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)) {
		for (const m of script[1].matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) initial.add(new URL(m[1], `${server.url}/image`).href);
	}
	if (initial.size === 0) throw new Error('found no scripts in the /image HTML');

	// Static imports are fetched before the module runs, preloaded or not: follow them all.
	const files = new Map<string, { raw: number; gzip: number }>();
	const queue = [...initial];
	let ort = false;
	while (queue.length) {
		const url = queue.shift()!;
		if (files.has(url)) continue;
		const r = await client.request('GET', new URL(url).pathname);
		if (!r.ok) throw new Error(`GET ${url} answered ${r.status}`);
		const bytes = new Uint8Array(await r.arrayBuffer());
		files.set(url, { raw: bytes.byteLength, gzip: gzipSync(bytes, { level: 9 }).byteLength });
		const text = new TextDecoder().decode(bytes);
		if (/onnxruntime|ort-wasm|InferenceSession/.test(text)) ort = true;
		for (const m of text.matchAll(/(?:^|[;\s}])import\s*(?:[\w*{}\s,$]+from\s*)?["']([^"']+\.js)["']/g)) {
			queue.push(new URL(m[1], url).href);
		}
	}

	const list = [...files].map(([url, s]) => ({ path: new URL(url).pathname, ...s })).sort((a, b) => b.gzip - a.gzip);
	const gzipBytes = list.reduce((n, f) => n + f.gzip, 0);
	const rawBytes = list.reduce((n, f) => n + f.raw, 0);
	const result = {
		page: '/image',
		gzipBytes,
		rawBytes,
		budgetBytes: BUDGET_BYTES,
		withinBudget: gzipBytes <= BUDGET_BYTES,
		inferenceRuntimeLoaded: ort,
		files: list,
		measuredAt: new Date().toISOString()
	};
	mkdirSync(new URL('bench-results/', root), { recursive: true });
	writeFileSync(new URL('bench-results/image-js.json', root), JSON.stringify(result, null, 2) + '\n');

	console.log('| file | raw | gzip |\n|---|---:|---:|');
	for (const f of list) console.log(`| ${f.path} | ${f.raw} | ${f.gzip} |`);
	console.log(`\n/image initial JS: ${(gzipBytes / 1024).toFixed(1)} KB gzip (${gzipBytes} bytes; ${(rawBytes / 1024).toFixed(1)} KB raw) in ${list.length} files; budget ${BUDGET_BYTES / 1024} KB: ${result.withinBudget ? 'ok' : 'OVER'}`);
	console.log(`inference runtime loaded: ${ort ? 'YES (must not be)' : 'no'}`);
	console.log('JSON: bench-results/image-js.json');
	// Over budget is a figure for the table (its "met" column), not a failed run; loading the
	// inference runtime on /image is a defect, so that one still fails.
	if (ort) process.exitCode = 1;
} finally {
	await server.dispose();
}
