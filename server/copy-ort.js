// Copies onnxruntime-web's runtime files into static/ort/ so the app serves them itself
// (application/wasm, same origin, COEP-clean) instead of a CDN. Runs from postinstall,
// `npm run build` and ensure-build. Files are copied only when missing or of another size
// (ORT is pinned), so an unchanged copy never makes ensure-build think the sources are newer,
// while a fresh copy does (the build lacks it).
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// The default `onnxruntime-web` import (JSEP build: WebGPU and WASM EPs) loads these two;
// its pthread workers are started from the same .mjs.
export const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

export function copyOrt({ quiet = true } = {}) {
	const from = join(root, 'node_modules/onnxruntime-web/dist');
	const to = join(root, 'static/ort');
	if (!existsSync(from)) {
		if (!quiet) console.warn('copy-ort: onnxruntime-web is not installed; skipped');
		return;
	}
	mkdirSync(to, { recursive: true });
	for (const name of ORT_FILES) {
		const src = join(from, name), dst = join(to, name);
		if (existsSync(dst) && statSync(dst).size === statSync(src).size) continue;
		copyFileSync(src, dst);
		if (!quiet) console.log(`copy-ort: static/ort/${name}`);
	}
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) copyOrt({ quiet: false });
