// The production server never enters an AsyncLocalStorage (vite-plugins/request-store.js): on
// Node 20 the first one entered turns on promise hooks for every promise of the process (about
// 3 % of the broker's CPU a job, 7 % of its allocations). Pages, endpoints and the Island
// protocol still work without it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../harness/client';
import { demoParams, setKyc, TRUST_OFF } from '../harness/broker';
import { startServer, type TestServer } from '../harness/server';
import { makePng, TestIsland } from '../harness/test-island';

const root = new URL('..', import.meta.url).pathname;

function entered(server: TestServer): Promise<number> {
	return new Promise((resolve) => {
		const onMessage = (m: { type?: string; entered?: number }) => {
			if (m.type !== 'async-context-probe') return;
			server.process.off('message', onMessage);
			resolve(m.entered!);
		};
		server.process.on('message', onMessage);
		server.process.send({ type: 'async-context-probe' });
	});
}

describe('the request store', () => {
	let server: TestServer;
	beforeAll(async () => {
		server = await startServer('pglite', { execArgv: ['--require', join(root, 'harness/async-context-probe.cjs')], env: TRUST_OFF });
	});
	afterAll(() => server?.stop());

	it('is never entered, while pages render and a job goes from submit to settlement', async () => {
		const params = demoParams();
		const page = await fetch(`${server.url}/image`);
		expect(page.status).toBe(200);
		expect(await page.text()).toContain('<html');
		const requester = new ApiClient(server.url);
		await requester.signUp();
		await setKyc(requester, 'verified');
		await requester.buy('starter');
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		const island = await TestIsland.register(owner);
		const submitted = await requester.json('POST', '/api/jobs', { json: { params } });
		expect(submitted.status).toBe(201);
		const claim = await island.claim();
		expect(claim?.job.id).toBe(submitted.body.job.id);
		const result = await island.result(claim!.job.id, claim!.lease.token, makePng(params.width, params.height));
		expect(result.status).toBe(200);
		expect((await requester.json('GET', `/api/jobs/${claim!.job.id}`)).body.job.status).toBe('completed');
		// A 404 from a page and an API error still come out as SvelteKit's (HttpError is one class).
		expect((await fetch(`${server.url}/no-such-page`)).status).toBe(404);
		expect((await requester.json('GET', '/api/jobs/no-such-job')).status).toBe(404);
		expect(await entered(server)).toBe(0);
	});

	it('is used by nothing in the app: no getRequestEvent, no remote functions', () => {
		const src = join(root, 'src');
		const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ts|js|svelte)$/.test(f) && !f.endsWith('.test.ts'));
		const users = files.filter((f) => /getRequestEvent|from '\$app\/server'|\.remote\.(ts|js)$/.test(readFileSync(join(src, f), 'utf8') + f));
		expect(users).toEqual([]);
	});
});
