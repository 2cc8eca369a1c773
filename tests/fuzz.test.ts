// Property-based fuzzing of every API route (fast-check): random methods, paths, ids, query
// strings, headers, credentials and bodies (JSON of any shape, mutated valid params, binary,
// truncated, huge) against the production server. Properties: never a 5xx, and a refused
// request (4xx) moves no credit — the ledger gains no transaction or entry (every movement,
// and so every balance change, is one). FUZZ_RUNS cases per database (1,000 in `npm test`, 10,000 in
// `npm run fuzz`), from a fresh seed each run; FUZZ_SEED replays a failure.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../harness/client';
import { drivers } from './helpers/db';
import { startServer, type TestServer } from '../harness/server';
import { snapshotBuild } from '../harness/build-snapshot';
import { BROKER_ENV, demoParams, ledgerAdmin, requester, setKyc } from '../harness/broker';
import { makePng, TestIsland } from '../harness/test-island';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
// Fresh cases every run, so each run explores more; the seed is printed first, so a failure
// (even one that kills the run) can be replayed with FUZZ_SEED.
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 32) - 2 ** 31;
console.log(`[fuzz] seed ${seed} (replay: FUZZ_SEED=${seed})`);

/**
 * One request on its own connection (node:http: any method, any header, no keep-alive reuse
 * after a body the server refused to read). Resolves with the status, or 0 when the server
 * answered nothing within 3 s (a long-poll claim, an SSE stream: only the status matters) or
 * dropped the connection while a refused body was still being sent.
 */
function send(url: string, method: string, headers: Record<string, string>, body: Uint8Array | null, timeoutMs = 3000): Promise<number> {
	return new Promise((resolve) => {
		const req = http.request(url, { method, headers: { ...headers, connection: 'close' }, agent: false }, (res) => {
			resolve(res.statusCode ?? 0);
			res.destroy();
		});
		req.setTimeout(timeoutMs, () => (req.destroy(), resolve(0)));
		req.on('error', () => resolve(0));
		req.end(body ?? undefined);
	});
}

/** Bodies print as their size in a counterexample, not as a megabyte of numbers. */
const bytes = (b: Uint8Array) => ({ bytes: b, [fc.toStringMethod]: () => `<${b.length} bytes: ${Buffer.from(b.subarray(0, 60)).toString('latin1')}…>` });

/** Every route of src/routes/api, `:id` where the path takes one. */
const ROUTES: [string, string][] = [
	['POST', '/api/auth/signup'],
	['POST', '/api/auth/login'],
	['POST', '/api/auth/logout'],
	['GET', '/api/me'],
	['DELETE', '/api/me'],
	['GET', '/api/keys'],
	['POST', '/api/keys'],
	['DELETE', '/api/keys/:id'],
	['POST', '/api/credits/purchase'],
	['POST', '/api/kyc/start'],
	['POST', '/api/kyc/webhook/:id'],
	['POST', '/api/jobs/quote'],
	['POST', '/api/jobs'],
	['GET', '/api/jobs'],
	['GET', '/api/jobs/:id'],
	['DELETE', '/api/jobs/:id'],
	['GET', '/api/jobs/:id/events'],
	['GET', '/api/jobs/events'],
	['POST', '/api/jobs/:id/share'],
	['DELETE', '/api/jobs/:id/image'],
	['GET', '/api/images/:id.png'],
	['POST', '/api/islands'],
	['GET', '/api/islands'],
	['POST', '/api/islands/claim'],
	['POST', '/api/islands/heartbeat'],
	['POST', '/api/islands/jobs/:id/progress'],
	['POST', '/api/islands/jobs/:id/result'],
	['POST', '/api/islands/jobs/:id/fail'],
	['GET', '/api/islands/jobs/:id/input.png'],
	['GET', '/api/admin/ledger/check'],
	['GET', '/api/health'],
	['GET', '/api/models'],
	['GET', '/api/models/:id/tokenizer'],
	['GET', '/api/openapi.json'],
	['POST', '/api/admin/claim']
];

interface Fixtures {
	/** Ids that exist: the requester's jobs, images, keys, the other user's job. */
	ids: string[];
	/** Credentials by name; `none` sends nothing. */
	auth: Record<string, Record<string, string>>;
	leases: string[];
}

describe.each(drivers)('fuzzing every API route on %s', (driver) => {
	let server: TestServer;
	let admin: ApiClient;
	let fx: Fixtures;
	let serverLog = '';
	let build: ReturnType<typeof snapshotBuild>;

	beforeAll(async () => {
		// A lease never expires during the run: a reaped job failing on its own would move credits.
		build = snapshotBuild();
		server = await startServer(driver, { env: { ...BROKER_ENV, ...build.env, LEASE_FLOOR_MS: String(24 * 3600_000) } });
		// The server's log, so a 5xx comes with its stack.
		for (const stream of [server.process.stdout, server.process.stderr]) stream?.on('data', (d) => (serverLog = (serverLog + d).slice(-4000)));
		admin = await ledgerAdmin(server.url);
		const a = await requester(server.url, 'creator');
		const b = await requester(server.url, 'starter');
		const owner = new ApiClient(server.url);
		await owner.signUp();
		await setKyc(owner, 'verified');
		const island = await TestIsland.register(owner);
		// A completed job with an image, a running one with a live lease, a queued one.
		await a.json('POST', '/api/jobs', { json: { params: demoParams() } });
		const done = await island.runOne();
		const running = (await a.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		const claim = await island.claim();
		await a.json('POST', '/api/jobs', { json: { params: demoParams() } });
		const other = (await b.json('POST', '/api/jobs', { json: { params: demoParams() } })).body.job;
		const key = (await a.json('POST', '/api/keys', { json: { name: 'fuzz' } })).body;
		const image = (await a.json('GET', `/api/jobs/${done!.job.id}`)).body.job.imageUrl as string;
		fx = {
			ids: [done!.job.id, running.id, other.id, key.key.id, image.replace(/^\/api\/images\/|\.png$/g, ''), 'stripe', 'sandbox'],
			auth: {
				none: {},
				a: { cookie: a.cookie },
				b: { cookie: b.cookie },
				admin: { cookie: admin.cookie },
				key: { authorization: `Bearer ${key.secret}` },
				island: { authorization: `Bearer ${island.token}` },
				forgedKey: { authorization: 'Bearer ak_' + 'x'.repeat(43) },
				forgedIsland: { authorization: 'Bearer isl_' + 'y'.repeat(43) },
				garbage: { authorization: 'Basic Zm9vOmJhcg==', cookie: 'session=' + 'z'.repeat(300) }
			},
			leases: [claim!.lease.token, claim!.lease.token.replace(/^lease_1_/, 'lease_2_'), 'lease_1_' + 'A'.repeat(32)]
		};
	});

	afterAll(async () => {
		const check = (await admin.json('GET', '/api/admin/ledger/check')).body;
		expect(check).toMatchObject({ ok: true, problems: [] });
		await server?.dispose();
		build?.remove();
	});

	/**
	 * What a refused request must leave untouched. Every credit movement is a new ledger
	 * transaction with new entries, so the counts catch any of them, in one cheap request.
	 */
	async function ledgerState() {
		const check = (await admin.json('GET', '/api/admin/ledger/check')).body;
		return JSON.stringify(check.totals);
	}


	it(`never answers 5xx and moves no credit on a refused request (${RUNS} cases)`, { timeout: 60 * 60_000 }, async () => {
		const id = fc.oneof(
			fc.constantFrom(...fx.ids),
			fc.constant(randomUUID()),
			fc.uuid(),
			fc.string({ maxLength: 40 }),
			fc.string({ unit: 'grapheme', maxLength: 20 }),
			fc.constantFrom('..%2f..%2fetc%2fpasswd', '%00', "1' or '1'='1", '-1', '0', 'null', '%E2%80%AE', 'a'.repeat(5000))
		);
		const params = fc.record(
			{
				prompt: fc.oneof(fc.string({ maxLength: 600 }), fc.constant('<img src=x onerror=alert(1)>')),
				model: fc.oneof(fc.constant('demo'), fc.string()),
				width: fc.oneof(fc.constantFrom(256, 320, 512), fc.integer(), fc.double()),
				height: fc.oneof(fc.constantFrom(256, 384, 512), fc.integer()),
				steps: fc.oneof(fc.integer({ min: -5, max: 40 }), fc.string()),
				seed: fc.oneof(fc.integer(), fc.bigInt().map(String), fc.constant(-1)),
				guidance: fc.double(),
				negativePrompt: fc.string({ maxLength: 600 }),
				// Variations of the requester's own picture, another's, none; strengths in and out of range.
				variation: fc.oneof(
					fc.record({ imageId: fc.oneof(fc.constantFrom(...fx.ids), fc.string()), strength: fc.oneof(fc.constantFrom(0.1, 0.5, 0.9), fc.double(), fc.string()) }, { requiredKeys: [] }),
					fc.anything()
				),
				extra: fc.anything()
			},
			{ requiredKeys: [] }
		);
		const json = fc.oneof(
			fc.json({ maxDepth: 4 }),
			params.map((p) => JSON.stringify({ params: { ...demoParams(), ...p } })),
			params.map((p) => JSON.stringify({ params: p })),
			fc.record({ lease: fc.oneof(fc.constantFrom(...fx.leases), fc.string()), step: fc.integer(), total: fc.integer(), reason: fc.string(), preview: fc.string() }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
			fc.record({ email: fc.oneof(fc.emailAddress(), fc.string()), password: fc.string({ maxLength: 300 }), pack: fc.constantFrom('starter', 'studio', 'x'), name: fc.string() }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
			fc.record({ backend: fc.constantFrom('node', 'wasm', 'gpu'), models: fc.array(fc.string()), maxPixels: fc.integer(), status: fc.constantFrom('verified', 'x') }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
			fc.json().map((s) => s.slice(0, Math.max(0, s.length - 1))) // truncated
		);
		const body = fc.oneof(
			{ weight: 6, arbitrary: json.map((s) => bytes(new TextEncoder().encode(s))) },
			{ weight: 2, arbitrary: fc.uint8Array({ maxLength: 2000 }).map(bytes) },
			{ weight: 1, arbitrary: fc.constantFrom(256, 384, 512).map((w) => bytes(makePng(w, 256))) },
			{ weight: 1, arbitrary: fc.constantFrom(70_000, 300_000, 9_000_000).map((n) => bytes(new Uint8Array(n).fill(0x7b))) },
			{ weight: 1, arbitrary: fc.constant(bytes(new Uint8Array([0xff, 0xfe, 0x7b, 0x22]))) },
			{ weight: 1, arbitrary: fc.constant(null) }
		);
		const request = fc.record({
			route: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...ROUTES) }, { weight: 1, arbitrary: fc.tuple(fc.constant('GET'), fc.string({ maxLength: 30 }).map((s) => `/api/${encodeURIComponent(s)}`)) }),
			method: fc.option(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'), { freq: 4 }),
			id,
			query: fc.option(fc.dictionary(fc.constantFrom('limit', 'sig', 'exp', 'lastEventId', 'ids', 'batch', 'active', 'x'), fc.oneof(fc.string(), fc.integer().map(String)), { maxKeys: 3 })),
			auth: fc.constantFrom(...Object.keys(fx.auth)),
			contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'image/png', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'garbage/\u00e9'),
			headers: fc.record(
				{
					'x-lease': fc.oneof(fc.constantFrom(...fx.leases), fc.string({ maxLength: 100 })),
					'idempotency-key': fc.oneof(fc.uuid(), fc.string({ maxLength: 300 })),
					'last-event-id': fc.oneof(fc.nat().map(String), fc.string()),
					origin: fc.constantFrom('http://evil.example', 'null'),
					'stripe-signature': fc.string({ maxLength: 200 })
				},
				{ requiredKeys: [] }
			),
			declareLength: fc.boolean(),
			body
		});

		const settledLedgerState = async () => {
			let last = await ledgerState();
			for (let i = 0; i < 20; i++) {
				await new Promise((r) => setTimeout(r, 500));
				const now = await ledgerState();
				if (now === last) return now;
				last = now;
			}
			return last;
		};
		let before = await ledgerState();
		let cases = 0;
		await fc.assert(
			fc.asyncProperty(request, async (r) => {
				cases++;
				const [routeMethod, template] = r.route;
				const method = r.method ?? routeMethod;
				let path = template.replace(':id', encodeURIComponent(r.id));
				if (r.query) path += '?' + new URLSearchParams(r.query).toString();
				// The fixtures' own sessions and key stay alive (the ledger is read through them).
				const auth = template === '/api/auth/logout' ? 'none' : template === '/api/keys/:id' && r.id === fx.ids[3] ? 'b' : r.auth;
				const headers: Record<string, string> = { origin: server.url, ...fx.auth[auth] };
				for (const [k, v] of Object.entries(r.headers)) {
					// Header values must be ByteStrings; the fuzzed ones are kept to latin1.
					headers[k] = v.replace(/[^\x20-\x7e]/g, '?');
				}
				const withBody = method !== 'GET' && method !== 'HEAD' && r.body !== null;
				if (withBody && r.contentType) headers['content-type'] = r.contentType;
				// node:http frames a POST's body itself but sends a DELETE's or OPTIONS' bare after
				// the head, a malformed next request to the server; fetch and curl declare its length.
				if (withBody && r.declareLength) headers['content-length'] = String(r.body!.bytes.length);
				// Only long-polls and streams may stay open; anything else must answer before the
				// next case, or its late commit would be blamed on that case.
				// (Another method on a streaming path is answered at once: a GET there is a 405, and
				// a POST to a GET route may be a submit, whose hold must commit before the baseline.)
				const streams = (/\/claim$/.test(template) && method === 'POST') || (/\/events$/.test(template) && (method === 'GET' || method === 'HEAD'));
				const status = await send(server.url + path, method, headers, withBody ? r.body!.bytes : null, streams ? 3000 : 60_000);
				if (status >= 500) await new Promise((r) => setTimeout(r, 200)); // let the log arrive
				expect(status, `${method} ${path.slice(0, 200)} as ${auth}; server log:\n${status >= 500 ? serverLog : ''}`).toBeLessThan(500);
				// A request unanswered within send's 3 s (a slow purchase or submit on a loaded
				// machine) may still commit after it: let the ledger settle before the next baseline.
				const after = status === 0 ? await settledLedgerState() : await ledgerState();
				if (status >= 400) expect(after, `${method} ${path.slice(0, 200)} answered ${status} but moved credits`).toBe(before);
				before = after;
			}),
			{ numRuns: RUNS, seed, endOnFailure: true }
		);
		expect(cases).toBe(RUNS);
	});
});
