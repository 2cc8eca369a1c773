import { setTimeout as delay } from 'node:timers/promises';
import type { RequestEvent } from '@sveltejs/kit';
import { ApiError, api, parseWith, readBody } from '$lib/server/http';
import type { z } from 'zod';
import { ClaimBody } from '$lib/api';
import { broker, longPollClaim, requireIsland, touchIsland } from '$lib/server/jobs';
import { clientGone } from '$lib/server/jobs/client-gone';
import type { IslandRow } from '$lib/server/jobs/islands';
import { capLimits, concurrencyCaps } from '$lib/server/rate-limit';
import { claimantOf, quarantined } from '$lib/server/trust/admission';
import { trustConfig } from '$lib/server/trust/config';
import { isSuspicious } from '$lib/server/trust/failures';

type ClaimBodyValue = z.infer<typeof ClaimBody>;

/** Long-poll ≤ 25 s: 200 `{ job, lease }` or 204. */
export const POST = api(async (event) => {
	const b = broker();
	const island = await requireIsland(b.db, event);
	// Answered before anything is held open; the claim's transaction checks again.
	if (island.trust === 'quarantined') throw quarantined(island);
	// An empty body is fine: the capabilities from the last heartbeat apply.
	const raw = await readBody(event.request, 4096);
	const body: ClaimBodyValue = raw.length ? parseWith(ClaimBody, parseJsonBytes(raw)) : {};
	// A sleeping long-poll holds a connection: one owner's Islands together hold a bounded number.
	const caps = capLimits();
	const release = concurrencyCaps.acquireAll([
		[`claims:island:${island.id}`, caps.longPollsPerIsland, 'claims for this Island'],
		[`claims:user:${island.userId}`, caps.longPollsPerUser, 'claims for your Islands']
	]);
	try {
		return await claimFor(event, island, body);
	} finally {
		release();
	}
});

async function claimFor(event: RequestEvent, island: IslandRow, body: ClaimBodyValue) {
	const b = broker();
	await touchIsland(b, island);
	const gone = clientGone(event);
	// A suspicious Island (it gives up far more jobs than it finishes) claims after the others.
	if (isSuspicious(island)) await delay(trustConfig().suspiciousClaimDelayMs, undefined, { signal: gone.signal }).catch(() => {});
	const claim = await longPollClaim(b, claimantOf(island, body), { signal: gone.signal }).finally(gone.done);
	if (!claim) return new Response(null, { status: 204 });
	return Response.json(claim, { headers: { 'cache-control': 'no-store' } });
}

function parseJsonBytes(bytes: Uint8Array): unknown {
	try {
		return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
	} catch {
		throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON.');
	}
}
