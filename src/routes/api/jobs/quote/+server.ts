import { api, readJson, requireUser } from '$lib/server/http';
import { broker, JobRequest, quote } from '$lib/server/jobs';

/** `{ params, count? }` → `{ cost, tier, count, total }`; nothing is held. */
export const POST = api(async (event) => {
	requireUser(event, 'jobs:read');
	const body = await readJson(event.request, JobRequest);
	return Response.json(quote(broker(), body.params, body.count));
});
