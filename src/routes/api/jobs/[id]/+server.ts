import { api, requireUser } from '$lib/server/http';
import { broker, cancelJob, getOwnJob } from '$lib/server/jobs';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = api(async (event) => {
	const user = requireUser(event, 'jobs:read');
	return Response.json({ job: await getOwnJob(broker(), user.id, event.params.id) }, { headers: { 'cache-control': 'no-store' } });
});

/** Cancel: refunds unless the job already finished (409). */
export const DELETE: RequestHandler = api(async (event) => {
	const user = requireUser(event, 'jobs:write');
	return Response.json({ job: await cancelJob(broker(), user.id, event.params.id) });
});
