// End to end: a requester submits a job, the headless Island (build/island/index.js, built from src/island-node/, a real child
// process on onnxruntime-node with the real demo model) claims it, streams progress and
// uploads the PNG; the requester downloads a valid PNG of the requested size whose pixels
// show the prompt's colours. Also: cancel mid-run (410 → the Island drops the job and goes
// on) and SIGTERM (the Island finishes its job, then exits).
import { setKyc, TRUST_OFF } from '../harness/broker';
import { until } from '../harness/until';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPng } from '../src/lib/server/jobs/png-check';
import { readPngText } from './helpers/png-text';
import { ApiClient } from '../harness/client';
import { scoreColours } from './helpers/colour-score';
import { scoreObject } from './helpers/objects-score';
import { scoreShape } from './helpers/shape-score';
import { startServer, type TestServer } from '../harness/server';

const root = new URL('..', import.meta.url).pathname;
const demoManifest = pathToFileURL(`${root}static/models/demo/manifest.json`).href;
const objectsManifest = pathToFileURL(`${root}static/models/objects/manifest.json`).href;
/** Image pixels per latent cell (the preview has one pixel per cell). */
const downscale: number = JSON.parse(readFileSync(`${root}static/models/demo/manifest.json`, 'utf8')).latent.downscale;

interface RunningIsland {
	child: ChildProcess;
	log: () => string;
	exited: Promise<number | null>;
}

function startIsland(url: string, token: string): RunningIsland {
	const child = spawn(process.execPath, ['build/island/index.js', '--url', url, '--token', token, '--model', demoManifest, '--model', objectsManifest], {
		cwd: root,
		env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let out = '';
	child.stdout!.on('data', (d) => (out += d));
	child.stderr!.on('data', (d) => (out += d));
	const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
	return { child, log: () => out, exited };
}


describe('headless Island end to end (demo and objects models)', () => {
	let server: TestServer;
	let requester: ApiClient;
	let island: RunningIsland;
	let owner: ApiClient;

	beforeAll(async () => {
		// This file polls jobs every 100 ms: more than the per-user 100 a minute on /api/jobs*.
		server = await startServer('pglite', { env: { RATE_LIMIT_JOBS_PER_MINUTE: '1000000', ...TRUST_OFF } });
		requester = new ApiClient(server.url);
		await requester.signUp();
		const kyc = await requester.json('POST', '/api/kyc/start', { json: { legalName: 'Ada Lovelace', dateOfBirth: '1990-12-10', country: 'GB' } });
		expect(kyc.status).toBe(200);
		await requester.buy('studio'); // 20-odd pictures of both models
		owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		island = startIsland(server.url, await newIslandToken());
	});

	afterAll(async () => {
		if (island?.child.exitCode === null) {
			island.child.kill('SIGKILL');
			await island.exited;
		}
		await server?.dispose();
	});

	async function newIslandToken(): Promise<string> {
		const reg = await owner.json('POST', '/api/islands', { json: { name: 'test island' } });
		expect(reg.status).toBe(201);
		return reg.body.token;
	}

	const submit = async (params: Record<string, unknown>) => {
		const r = await requester.json('POST', '/api/jobs', { json: { params: { model: 'demo', ...params } } });
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		return r.body.job.id as string;
	};
	const job = async (id: string) => {
		const r = await requester.json('GET', `/api/jobs/${id}`);
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		return r.body.job;
	};
	/** Waits for the job to complete and downloads its image. */
	const image = async (id: string) => {
		const done = await until('completion', async () => {
			const j = await job(id);
			if (j.status === 'failed') throw new Error(`job failed: ${j.failureReason}\n${island.log()}`);
			return j.status === 'completed' && j;
		}, 120_000);
		const res = await requester.request('GET', done.imageUrl);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toBe('image/png');
		return new Uint8Array(await res.arrayBuffer());
	};

	/** Reads the job's SSE stream to its end; returns the events as [name, data]. */
	async function events(id: string): Promise<[string, any][]> {
		const res = await requester.request('GET', `/api/jobs/${id}/events`);
		expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
		const text = await res.text(); // the stream closes after the terminal event
		return text.split('\n\n').filter((b) => b.includes('data:')).map((b) => {
			const name = /^event: (.*)$/m.exec(b)?.[1] ?? 'message';
			return [name, JSON.parse(/^data: (.*)$/m.exec(b)![1])];
		});
	}

	it('turns a prompt into a PNG of the requested size that draws what the prompt says', async () => {
		// The demo model follows shape colour, background and position (tools/demo-model/
		// MODEL_CARD.md). Three seeds, at least two right on all three: each seed is
		// deterministic, so this is not flaky, only robust to a retrained model.
		const prompt = 'a large red circle in the center on a blue background';
		const ids = [];
		for (const seed of [1, 2, 3]) ids.push(await submit({ prompt, width: 320, height: 256, steps: 8, seed }));
		const seen = await events(ids[0]);
		const last = seen.at(-1)!;
		expect(last[0], `${JSON.stringify(last)}\n${island.log()}`).toBe('completed');
		// Progress with a small PNG preview (the Island throttles, so not necessarily every step).
		const progress = seen.filter(([e]) => e === 'progress').map(([, d]) => d);
		expect(progress.length).toBeGreaterThan(0);
		expect(progress.every((p) => p.total === 8 && p.step >= 1 && p.step <= 8)).toBe(true);
		const preview = progress.find((p) => p.preview)?.preview as string;
		expect(preview).toMatch(/^data:image\/png;base64,/);
		expect(checkPng(Buffer.from(preview.split(',')[1], 'base64'), { width: 320 / downscale, height: 256 / downscale }).ok).toBe(true);

		const scores = [];
		for (const [k, id] of ids.entries()) {
			const png = await image(id);
			expect(checkPng(png, { width: 320, height: 256 }).ok).toBe(true);
			expect(readPngText(png)).toMatchObject({ prompt, seed: String(k + 1), steps: '8', size: '320x256', model: 'demo' });
			const img = decode(png);
			scores.push(scoreColours(img.data, img.width, img.height, img.channels));
		}
		const right = scores.filter((s) => s.background === 'blue' && s.shape === 'red' && s.cell?.join() === '1,1');
		expect(right.length, JSON.stringify(scores)).toBeGreaterThanOrEqual(2);
	});

	it('draws what another prompt says from the same seeds: shape, colours and place come from the words', async () => {
		const cases = [
			{ prompt: 'a small green star at the top left on a yellow background', background: 'yellow', colour: 'green', shape: 'star', cell: '0,0' },
			{ prompt: 'white backdrop with a big black square on the right', background: 'white', colour: 'black', shape: 'square', cell: '2,1' },
			{ prompt: 'a purple triangle at the bottom on a yellow background', background: 'yellow', colour: 'purple', shape: 'triangle', cell: '1,2' },
			// The README's example: no size, no position (either is then random).
			{ prompt: 'a red circle on a blue background', background: 'blue', colour: 'red', shape: 'circle', cell: null }
		];
		for (const c of cases) {
			const scores = [];
			for (const seed of [1, 2, 3]) {
				const img = decode(await image(await submit({ prompt: c.prompt, width: 256, height: 256, steps: 12, seed })));
				scores.push({ ...scoreColours(img.data, img.width, img.height, img.channels), drawn: scoreShape(img.data, img.width, img.height, img.channels).shape });
			}
			const right = scores.filter((s) => s.background === c.background && s.shape === c.colour && s.drawn === c.shape && (!c.cell || s.cell?.join() === c.cell));
			expect(right.length, `${c.prompt}: ${JSON.stringify(scores)}`).toBeGreaterThanOrEqual(2);
		}
	});

	it('draws "a red apple on a blue background" with the objects model: an apple on blue, from the pixels', async () => {
		// The model's known miss: a plain blue background sometimes comes out half purple (in
		// 3 of 32 seeds through torch; docs/objects-model.md), so 8 seeds, and most must be right.
		const scores = [];
		for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
			const id = await submit({ model: 'objects', prompt: 'a red apple on a blue background', width: 256, height: 256, steps: 12, seed });
			const img = decode(await image(id));
			expect([img.width, img.height]).toEqual([256, 256]);
			scores.push(scoreObject(img));
		}
		expect(scores.every((s) => s.ranked[0] === 'red-apple'), JSON.stringify(scores.map((s) => s.ranked.slice(0, 3)))).toBe(true);
		const right = scores.filter((s) => s.ranked[0] === 'red-apple' && s.top === 'blue' && s.bottom === 'blue');
		expect(right.length, JSON.stringify(scores.map((s) => ({ ...s, ranked: s.ranked.slice(0, 3) })))).toBeGreaterThanOrEqual(5);
	});

	it('streams progress, and drops a job cancelled mid-run, then takes the next one', async () => {
		const id = await submit({ prompt: 'a green square on a white background', width: 512, height: 512, steps: 30, seed: 1 });
		await until('first progress', async () => (await job(id)).progress?.step >= 1, 120_000);
		expect((await requester.request('DELETE', `/api/jobs/${id}`)).status).toBeLessThan(300);
		await until('the Island to drop it', async () => island.log().includes(`job ${id}: cancelled by the broker`), 60_000);
		const next = await submit({ prompt: 'a yellow star on a black background', width: 256, height: 256, steps: 4, seed: 2 });
		await until('the next job', async () => (await job(next)).status === 'completed', 120_000);
		expect((await job(id)).status).toBe('cancelled');
	});

	it('on SIGTERM finishes the running job, then exits', async () => {
		const id = await submit({ prompt: 'a pink heart on a cyan background', width: 512, height: 512, steps: 20, seed: 3 });
		await until('the job to start', async () => (await job(id)).status === 'running', 120_000);
		island.child.kill('SIGTERM');
		expect(await island.exited).toBe(0);
		expect((await job(id)).status).toBe('completed');
		expect(island.log()).toMatch(/stopped after \d+ job/);
	});

	it('keeps retrying with backoff until the broker is reachable, then works', async () => {
		// The Island starts against a port where nothing listens yet; a plain TCP relay to the
		// broker opens there later, like a broker coming back after a restart.
		const relay = net.createServer((sock) => {
			const up = net.connect(Number(new URL(server.url).port), '127.0.0.1');
			sock.pipe(up).pipe(sock);
			sock.on('error', () => up.destroy());
			up.on('error', () => sock.destroy());
		});
		await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
		const port = (relay.address() as net.AddressInfo).port;
		await new Promise((r) => relay.close(r)); // keep the port number, refuse connections
		const late = startIsland(`http://127.0.0.1:${port}`, await newIslandToken());
		try {
			await until('a failed attempt', async () => late.log().includes('retrying in'), 60_000);
			await new Promise<void>((r) => relay.listen(port, '127.0.0.1', r));
			const id = await submit({ prompt: 'a white cross on a purple background', width: 256, height: 256, steps: 4, seed: 5 });
			await until('completion through the relay', async () => (await job(id)).status === 'completed', 120_000);
			expect(late.log()).toMatch(/connected/);
			// The Island logs "done" once its upload returns, which can be just after the broker
			// records the completion.
			await until('the Island to log the job done', async () => late.log().includes(`job ${id}: done`), 30_000);

			// Two signals: the Island hands its running job back (the broker requeues it) and exits.
			const long = await submit({ prompt: 'a black ring on an orange background', width: 512, height: 512, steps: 30, seed: 6 });
			await until('the long job to start', async () => (await job(long)).progress?.step >= 1, 120_000);
			// The second signal goes as soon as the Island has taken the first (two pending
			// SIGTERMs would merge into one); a fixed pause let a 512×512 job finish first on a
			// fast machine, and there was then nothing to hand back.
			const tookFirst = new Promise<void>((resolve) => {
				const check = () => late.log().includes(`stopping after job ${long}`) && resolve();
				late.child.stdout!.on('data', check);
				late.child.stderr!.on('data', check);
			});
			late.child.kill('SIGTERM');
			await tookFirst;
			late.child.kill('SIGTERM');
			expect(await late.exited).toBe(0);
			expect(late.log()).toContain(`job ${long}: failed: Island shutting down`);
			const back = await job(long);
			expect(back.status).toBe('queued');
			expect(back.attempts).toBe(1);
		} finally {
			if (late.child.exitCode === null) late.child.kill('SIGKILL');
			relay.close();
		}
	});
});
