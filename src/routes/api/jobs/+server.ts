import { api, parseWith, readJson, requireUser } from '$lib/server/http';
import { optionalIdempotencyKey } from '$lib/server/idempotency';
import { broker, JobListQuery, JobRequest, listOwnJobs, submitJobs } from '$lib/server/jobs';

/** `{ params, count? }` → 201 `{ job, jobs, batch }`: one job per image, seeds s, s+1, …; an Idempotency-Key is optional. */
export const POST = api(async (event) => {
	const user = requireUser(event, 'jobs:write');
	const idempotencyKey = optionalIdempotencyKey(event.request);
	const body = await readJson(event.request, JobRequest);
	const { body: answer, replayed } = await submitJobs(broker(), user, body.params, { count: body.count, idempotencyKey });
	const headers: Record<string, string> = { location: `/api/jobs/${answer.job.id}` };
	if (idempotencyKey) headers['idempotent-replayed'] = String(replayed);
	return Response.json(answer, { status: 201, headers });
});

/** The caller's own jobs, newest first; `?batch=` one request's images, `?active=true` the queue. */
export const GET = api(async (event) => {
	const user = requireUser(event, 'jobs:read');
	const { limit, batch, active } = parseWith(JobListQuery, Object.fromEntries(event.url.searchParams));
	const jobs = await listOwnJobs(broker(), user.id, { limit, batchId: batch, active: active === 'true' });
	return Response.json({ jobs }, { headers: { 'cache-control': 'no-store' } });
});
