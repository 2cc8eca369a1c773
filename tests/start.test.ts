// `npm start` as a newcomer runs it: the production server plus its built-in headless Island
// (build/island/index.js, plain node), on PGlite. The first image comes from that Island; a
// SIGTERM stops the Island first, then the server, and both exit.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../harness/client';
import { demoParams, objectsParams } from '../harness/broker';
import { freePort } from '../harness/server';

const root = new URL('..', import.meta.url).pathname;


describe('npm start', () => {
	const dataDir = mkdtempSync(join(tmpdir(), 'archipelago-start-'));
	afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

	it('serves, and its built-in Island makes the first image, of either built-in model; SIGTERM stops both', async () => {
		const port = await freePort();
		const child = spawn(process.execPath, ['server/start.js'], {
			cwd: root,
			env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, SKIP_BUILD: '1', BUILTIN_ISLANDS: '1' },
			stdio: ['ignore', 'pipe', 'pipe']
		});
		let log = '';
		child.stdout.on('data', (d) => (log += d));
		child.stderr.on('data', (d) => (log += d));
		const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
		try {
			await expect.poll(() => log, { timeout: 60_000 }).toMatch(/ready, claiming/);
			const url = `http://127.0.0.1:${port}`;
			const me = new ApiClient(url);
			await me.signUp();
			// The sandbox provider, as a newcomer verifies.
			const kyc = await me.json('POST', '/api/kyc/start', { json: { legalName: 'First Person', dateOfBirth: '1990-01-01', country: 'FR' } });
			expect(kyc.body.kyc.status).toBe('verified');
			await me.buy('starter');
			const job = (await me.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job.id;
			await expect.poll(async () => (await me.json('GET', `/api/jobs/${job}`)).body.job.status, { timeout: 60_000, interval: 250 }).toBe('completed');
			const image = await me.request('GET', (await me.json('GET', `/api/jobs/${job}`)).body.job.imageUrl);
			expect(image.headers.get('content-type')).toBe('image/png');
			// It offers every built-in model: an objects job is made too.
			expect(log).toMatch(/offering demo, objects/);
			const objects = (await me.json('POST', '/api/jobs', { json: { params: objectsParams() } })).body.job.id;
			await expect.poll(async () => (await me.json('GET', `/api/jobs/${objects}`)).body.job.status, { timeout: 60_000, interval: 250 }).toBe('completed');
			expect(log).toMatch(/\[admin\] No admin yet/);
		} finally {
			child.kill('SIGTERM');
		}
		expect(await exited).toBe(0);
		expect(log).toMatch(/SIGTERM received[\s\S]*stopped after 2 job/);
	});
});
