import { db } from '$lib/server/db';
import { api, readJson } from '$lib/server/http';
import { HeartbeatBody, recordHeartbeat, requireIsland } from '$lib/server/jobs';

/** Capabilities (backend, models, max pixels); also keeps the Island online. */
export const POST = api(async (event) => {
	const island = await requireIsland(db(), event);
	const body = await readJson(event.request, HeartbeatBody);
	return Response.json({ island: await recordHeartbeat(db(), island.id, body) });
});
