import { z } from 'zod';
import { api, parseWith, readJson, requireUser } from '$lib/server/http';
import { broker, JobRequest, listOwnJobs, submitJob } from '$lib/server/jobs';

export const POST = api(async (event) => {
	const user = requireUser(event, 'jobs:write');
	const body = await readJson(event.request, JobRequest);
	const job = await submitJob(broker(), user, body.params);
	return Response.json({ job }, { status: 201, headers: { location: `/api/jobs/${job.id}` } });
});

const ListQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(10) });

/** The caller's own jobs, newest first. */
export const GET = api(async (event) => {
	const user = requireUser(event, 'jobs:read');
	const { limit } = parseWith(ListQuery, Object.fromEntries(event.url.searchParams));
	return Response.json({ jobs: await listOwnJobs(broker(), user.id, limit) }, { headers: { 'cache-control': 'no-store' } });
});
