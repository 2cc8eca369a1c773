// The shared loop's handling of refusals about the Island itself (quarantine, unverified
// owner), with a scripted client: they are reported as refusals, not as an unreachable broker.
import { describe, expect, it } from 'vitest';
import { BrokerError, type ClaimedJob, type IslandClient } from './protocol';
import { IslandRunner, refusalOf, type Refusal } from './runner';

/** A client whose claims answer from `script` in turn (an error is thrown), then null (nothing to do). */
function scripted(script: (Error | null)[]) {
	const calls = { claims: 0 };
	const client = {
		heartbeat: async () => {},
		claim: async (): Promise<ClaimedJob | null> => {
			const next = script[calls.claims++];
			if (next instanceof Error) throw next;
			await new Promise((r) => setTimeout(r, 5));
			return null;
		}
	} as unknown as IslandClient;
	return { client, calls };
}

const quarantined = () => new BrokerError(403, 'island_quarantined', '/api/islands/claim: 403 This Island is quarantined: x.', 'This Island is quarantined: x.');

function runner(client: IslandClient, events: { refused: (Refusal | null)[]; trouble: (string | null)[] }) {
	return new IslandRunner({
		client: async () => client,
		capabilities: () => ({ backend: 'wasm', models: ['demo'], maxPixels: 1 }),
		engine: { generate: async () => new Uint8Array() },
		refusedRetryMs: 10,
		onRefused: (r) => events.refused.push(r),
		onBrokerTrouble: (m) => events.trouble.push(m)
	});
}

describe('IslandRunner refusals', () => {
	it('reports a quarantine as a refusal with the broker’s words, and its end once a claim goes through', async () => {
		const { client, calls } = scripted([quarantined(), quarantined()]);
		const events = { refused: [] as (Refusal | null)[], trouble: [] as (string | null)[] };
		const r = runner(client, events);
		const running = r.run();
		await expect.poll(() => calls.claims).toBeGreaterThanOrEqual(3);
		r.stop();
		await running;
		expect(events.refused.slice(0, 3)).toEqual([
			{ code: 'island_quarantined', message: 'This Island is quarantined: x.' },
			{ code: 'island_quarantined', message: 'This Island is quarantined: x.' },
			null
		]);
		expect(events.trouble).toEqual([]);
	});

	it('stops asking at once when the owner stops it on a refusal', async () => {
		const { client, calls } = scripted([new BrokerError(403, 'owner_not_verified', 'x', 'verify first')]);
		const events = { refused: [] as (Refusal | null)[], trouble: [] as (string | null)[] };
		const r = new IslandRunner({
			client: async () => client,
			capabilities: () => ({ backend: 'wasm', models: ['demo'], maxPixels: 1 }),
			engine: { generate: async () => new Uint8Array() },
			refusedRetryMs: 60_000,
			onRefused: (refusal) => (events.refused.push(refusal), r.stop())
		});
		// Not the 60 s refusal wait: a stop from the callback ends the loop now.
		await Promise.race([r.run(), new Promise((_, reject) => setTimeout(() => reject(new Error('still waiting after stop()')), 5_000))]);
		expect(calls.claims).toBe(1);
		expect(events.refused).toEqual([{ code: 'owner_not_verified', message: 'verify first' }]);
	});

	it('still calls other errors connection trouble', async () => {
		const { client, calls } = scripted([new BrokerError(503, 'unavailable', 'down')]);
		const events = { refused: [] as (Refusal | null)[], trouble: [] as (string | null)[] };
		const r = runner(client, events);
		const running = r.run();
		await expect.poll(() => calls.claims, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
		r.stop();
		await running;
		expect(events.refused).toEqual([]);
		expect(events.trouble[0]).toMatch(/^Broker unreachable/);
		expect(events.trouble[1]).toBeNull();
	});

	it('takes only 403s with a refusal code as refusals', () => {
		expect(refusalOf(new BrokerError(403, 'forbidden', 'x'))).toBeNull();
		expect(refusalOf(new BrokerError(409, 'island_quarantined', 'x'))).toBeNull();
		expect(refusalOf(new Error('island_quarantined'))).toBeNull();
	});
});
