// Headless Island: `npm run island -- --url http://localhost:3000 --token isl_…` (the built
// build/island/index.js, so it runs with production dependencies only; `npm start` runs one)
// (or ISLAND_URL / ISLAND_TOKEN). Runs jobs on onnxruntime-node (CPU) until SIGINT/SIGTERM:
// the first signal finishes the current job, a second one (or the grace period) hands it
// back to the broker.
import { parseArgs } from 'node:util';
import { loadNodeModel, nodeFetchBytes, toUrl } from './node-runtime';
import { HeadlessIsland, type ModelSource } from './headless';
import { loadManifest } from '../lib/diffusion/manifest';
import { loadSdTurboManifest } from '../lib/diffusion/sdturbo';

const { values } = parseArgs({
	options: {
		url: { type: 'string' },
		token: { type: 'string' },
		// Manifest URLs or paths; default: the broker's demo model.
		model: { type: 'string', multiple: true },
		threads: { type: 'string' },
		'max-pixels': { type: 'string' },
		help: { type: 'boolean', short: 'h' }
	}
});

const url = values.url ?? process.env.ISLAND_URL;
const token = values.token ?? process.env.ISLAND_TOKEN;
if (values.help || !url || !token) {
	console.error('usage: npm run island -- --url http://localhost:3000 --token isl_… [--model <manifest url|path>]… [--threads N]\n' +
		'env: ISLAND_URL, ISLAND_TOKEN, ISLAND_MODELS (comma-separated), SDTURBO_BASE_URL, ISLAND_STOP_GRACE_MS');
	process.exit(values.help ? 0 : 2);
}
const threads = Number(values.threads ?? process.env.ISLAND_THREADS ?? 0) || undefined;
const fromEnv = process.env.ISLAND_MODELS?.split(',').map((s) => s.trim()).filter(Boolean);
const modelUrls = values.model ?? (fromEnv?.length ? fromEnv : [`${url.replace(/\/+$/, '')}/models/demo/manifest.json`]);

async function sources(): Promise<ModelSource[]> {
	const out: ModelSource[] = [];
	for (const u of modelUrls) {
		const manifest = await loadManifest(toUrl(u), nodeFetchBytes);
		out.push({ id: manifest.id, load: () => loadNodeModel(u, manifest, { threads }) });
	}
	const turboBase = process.env.SDTURBO_BASE_URL;
	if (turboBase) {
		const manifest = await loadSdTurboManifest(turboBase, nodeFetchBytes);
		if (manifest) out.push({ id: manifest.id, load: () => loadNodeModel(turboBase, manifest, { threads }) });
	}
	return out;
}

const log = (m: string) => console.log(`[island ${new Date().toISOString()}] ${m}`);

// The broker may still be starting (built-in Island): retry reading the manifests.
let models: ModelSource[] = [];
for (let attempt = 0; ; attempt++) {
	try {
		models = await sources();
		break;
	} catch (e) {
		if (attempt >= 30) throw e;
		log(`waiting for models (${e instanceof Error ? e.message : e})`);
		await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
	}
}

const island = new HeadlessIsland({
	url,
	token,
	models,
	maxPixels: Number(values['max-pixels'] ?? 512 * 512),
	log
});
const grace = Number(process.env.ISLAND_STOP_GRACE_MS ?? 60_000);
const onSignal = (sig: string) => {
	log(`${sig} received`);
	island.stop();
	if (island.busy) setTimeout(() => island.stop('Island shutting down (grace period over)'), grace).unref();
};
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));
// Started by `npm start` (IPC channel): if that supervisor dies, hand the job back and go.
process.on('disconnect', () => {
	log('supervisor gone');
	island.stop();
	island.stop('Island shutting down (supervisor gone)');
});

log(`models: ${models.map((m) => m.id).join(', ')}; loading…`);
await island.warmUp();
log(`ready, claiming from ${url}`);
await island.run();
log(`stopped after ${island.jobsDone} job(s)`);
process.exit(0);
