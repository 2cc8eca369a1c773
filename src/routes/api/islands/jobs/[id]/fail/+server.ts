import { api, readJson } from '$lib/server/http';
import { broker, FailBody, reportFailure, requireIslandIdentity } from '$lib/server/jobs';
import type { RequestHandler } from './$types';

/** `{ lease, reason }`: the job is retried elsewhere, or fails with a refund after 3 attempts. */
export const POST: RequestHandler = api(async (event) => {
	const b = broker();
	const island = await requireIslandIdentity(b.db, event);
	const body = await readJson(event.request, FailBody);
	return Response.json(await reportFailure(b, island.id, event.params.id, body));
});
