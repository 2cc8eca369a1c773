// Headless Island: `npm run island -- --url http://localhost:3000 --token isl_…` (the built
// build/island/index.js, so it runs with production dependencies only; `npm start` runs one)
// (or ISLAND_URL / ISLAND_TOKEN). Runs jobs on onnxruntime-node (CPU) until SIGINT/SIGTERM:
// the first signal finishes the current job, a second one (or the grace period) hands it
// back to the broker.
import { parseArgs } from 'node:util';
import { loadNodeModel, nodeFetchBytes, toUrl } from './node-runtime';
import { HeadlessIsland, type ModelSource } from './headless';
import { modelUrls } from './model-urls';
import { loadManifest } from '../lib/diffusion/manifest';
import { loadSdTurboManifest } from '../lib/diffusion/sdturbo';

const { values } = parseArgs({
	options: {
		url: { type: 'string' },
		token: { type: 'string' },
		// Manifest URLs or paths; default: every built-in model, from the broker (model-urls.ts).
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
const manifests = modelUrls({ url, cli: values.model, env: process.env.ISLAND_MODELS });

const log = (m: string) => console.log(`[island ${new Date().toISOString()}] ${m}`);

/** A broker that answered 404: it doesn't ship that model (an older one); asking again won't help. */
const notThere = (e: unknown) => e instanceof Error && /HTTP 404\b/.test(e.message);

/**
 * The manifests, each read once it can be: the broker may still be starting (built-in Island),
 * so an unreachable one is asked again, up to 30 times with backoff. One the broker answers 404
 * for is left out; the Island offers the rest (it stops only when it has none).
 */
async function sources(): Promise<ModelSource[]> {
	const out: ModelSource[] = [];
	let pending = [...manifests];
	for (let attempt = 0; pending.length > 0; attempt++) {
		const failed: string[] = [];
		let last: unknown;
		for (const u of pending) {
			try {
				const manifest = await loadManifest(toUrl(u), nodeFetchBytes);
				out.push({ id: manifest.id, load: () => loadNodeModel(u, manifest, { threads }) });
			} catch (e) {
				if (notThere(e)) log(`${u} not offered by the broker (404): left out`);
				else (failed.push(u), (last = e));
			}
		}
		pending = failed;
		if (pending.length === 0) break;
		if (attempt >= 30) {
			if (out.length === 0) throw last;
			log(`left out after ${attempt + 1} tries: ${pending.join(', ')}`);
			break;
		}
		log(`waiting for models (${last instanceof Error ? last.message : last})`);
		await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
	}
	const turboBase = process.env.SDTURBO_BASE_URL;
	if (turboBase) {
		// As on the server: a bad mirror keeps SD-Turbo out, not the Island's other models.
		const manifest = await loadSdTurboManifest(turboBase, nodeFetchBytes).catch((e) => (log(`SD-Turbo not offered: ${e instanceof Error ? e.message : e}`), null));
		if (manifest) out.push({ id: manifest.id, load: () => loadNodeModel(turboBase, manifest, { threads }) });
	}
	if (out.length === 0) throw new Error('no model to offer');
	return out;
}

const models = await sources();

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
log(`ready, claiming from ${url} (offering ${island.engine.modelIds.join(', ')})`);
await island.run();
log(`stopped after ${island.jobsDone} job(s)`);
process.exit(0);
