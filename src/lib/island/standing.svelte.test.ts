import { describe, expect, it } from 'vitest';
import type { IslandView } from '../api/islands';
import { IslandStanding } from './standing.svelte';

function view(over: Partial<IslandView> = {}): IslandView {
	return {
		id: 'isl-1',
		name: 'Browser Island (WASM)',
		backend: 'wasm',
		models: ['demo'],
		maxPixels: 262144,
		online: true,
		lastHeartbeatAt: null,
		jobsDone: 0,
		createdAt: '2026-01-01T00:00:00.000Z',
		trust: 'probation',
		probation: { passed: 1, needed: 3 },
		quarantineReason: null,
		escrowed: 0,
		...over
	};
}

/** GET /api/islands answering the given Islands (another of the owner's first), counting calls. */
function server(...islands: IslandView[]) {
	const state = { islands, calls: 0 };
	const fetch = (async (url: string) => {
		state.calls++;
		expect(url).toBe('/api/islands');
		return Response.json({ islands: [view({ id: 'someone-else', trust: 'trusted' }), ...state.islands] });
	}) as typeof globalThis.fetch;
	return { state, fetch };
}

const opts = { verified: true, escrowWindowHours: 72 };

describe('IslandStanding', () => {
	it('shows probation with its count and the escrow of this browser’s Island, not another of the owner’s', async () => {
		const { fetch } = server(view({ escrowed: 12 }));
		const s = new IslandStanding({ ...opts, islandId: 'isl-1', fetch });
		expect(s.kind).toBe('unknown');
		await s.refresh();
		expect(s.kind).toBe('probation');
		expect(s.headline).toBe('On probation: 1 of 3 test jobs passed (it runs only test jobs until then).');
		expect(s.escrowed).toBe(12);
	});

	it('reads nothing before the Island is registered, then follows the new one', async () => {
		const { state, fetch } = server(view({ id: 'isl-2', trust: 'trusted' }));
		const s = new IslandStanding({ ...opts, islandId: null, fetch });
		await s.refresh();
		expect(state.calls).toBe(0);
		s.setIsland('isl-2');
		await s.refresh();
		expect(s.headline).toBe('Trusted');
	});

	it('says quarantined with the reason, from the claim’s refusal and then from the view', async () => {
		const { state, fetch } = server(view({ trust: 'quarantined', quarantineReason: 'a known-answer job came back different (tile 3)' }));
		const s = new IslandStanding({ ...opts, islandId: 'isl-1', fetch });
		s.refused({ code: 'island_quarantined', message: 'This Island is quarantined: something.' });
		expect(s.kind).toBe('quarantined');
		await expect.poll(() => state.calls).toBe(1);
		await expect.poll(() => s.headline).toBe('Quarantined: a known-answer job came back different (tile 3)');
		// Reinstated by an admin: the next read clears the refusal.
		state.islands = [view({ trust: 'trusted' })];
		await s.refresh();
		expect(s.kind).toBe('trusted');
		expect(s.refusal).toBeNull();
	});

	it('asks an unverified owner to verify, before and after a refusal', () => {
		const { fetch } = server();
		const before = new IslandStanding({ ...opts, verified: false, islandId: null, fetch });
		expect(before.kind).toBe('unverified');
		const after = new IslandStanding({ ...opts, islandId: null, fetch });
		after.refused({ code: 'owner_not_verified', message: 'Islands earn credits…' });
		expect(after.kind).toBe('unverified');
		expect(after.headline).toMatch(/^Verify your identity to run an Island/);
	});

	it('keeps the last view when the broker can’t be reached', async () => {
		let up = true;
		const fetch = (async () => {
			if (!up) throw new TypeError('Failed to fetch');
			return Response.json({ islands: [view({ trust: 'trusted', escrowed: 5 })] });
		}) as unknown as typeof globalThis.fetch;
		const s = new IslandStanding({ ...opts, islandId: 'isl-1', fetch });
		await s.refresh();
		up = false;
		await s.refresh();
		expect([s.kind, s.escrowed]).toEqual(['trusted', 5]);
	});
});
