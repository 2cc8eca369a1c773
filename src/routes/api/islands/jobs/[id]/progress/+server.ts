import { api, readJson } from '$lib/server/http';
import { broker, ProgressBody, reportProgress, requireIslandIdentity } from '$lib/server/jobs';
import type { RequestHandler } from './$types';

/** `{ lease, step, total, preview? }`: extends the lease; 403 wrong lease, 409 late, 410 cancelled. */
export const POST: RequestHandler = api(async (event) => {
	const b = broker();
	const island = await requireIslandIdentity(b.db, event);
	const body = await readJson(event.request, ProgressBody, 256 * 1024);
	return Response.json(await reportProgress(b, island.id, event.params.id, body));
});
