import { api, requireUser } from '$lib/server/http';
import { broker } from '$lib/server/jobs';
import { deleteJobImage } from '$lib/server/privacy/images';
import type { RequestHandler } from './$types';

/** Deletes the job's picture (and its prompt); the page asks for confirmation first. */
export const DELETE: RequestHandler = api(async (event) => {
	const user = requireUser(event, 'jobs:write');
	return Response.json({ job: await deleteJobImage(broker(), user.id, event.params.id) }, { headers: { 'cache-control': 'no-store' } });
});
