import { api, parseWith, readJson, requireUser } from '$lib/server/http';
import { broker, JobListQuery, JobRequest, listOwnJobs, submitJob } from '$lib/server/jobs';

export const POST = api(async (event) => {
	const user = requireUser(event, 'jobs:write');
	const body = await readJson(event.request, JobRequest);
	const job = await submitJob(broker(), user, body.params);
	return Response.json({ job }, { status: 201, headers: { location: `/api/jobs/${job.id}` } });
});

/** The caller's own jobs, newest first. */
export const GET = api(async (event) => {
	const user = requireUser(event, 'jobs:read');
	const { limit } = parseWith(JobListQuery, Object.fromEntries(event.url.searchParams));
	return Response.json({ jobs: await listOwnJobs(broker(), user.id, limit) }, { headers: { 'cache-control': 'no-store' } });
});
