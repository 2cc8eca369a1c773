import { z } from 'zod';
import { api, parseWith, readJson, requireUser } from '$lib/server/http';
import { optionalIdempotencyKey } from '$lib/server/idempotency';
import { broker, JobRequest, listOwnJobs, submitJobs } from '$lib/server/jobs';

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

const ListQuery = z.strictObject({
	limit: z.coerce.number().int().min(1).max(100).default(10),
	batch: z.string().min(1).max(100).optional(),
	active: z.enum(['true', 'false']).optional()
});

/** The caller's own jobs, newest first; `?batch=` one request's images, `?active=true` the queue. */
export const GET = api(async (event) => {
	const user = requireUser(event, 'jobs:read');
	const { limit, batch, active } = parseWith(ListQuery, Object.fromEntries(event.url.searchParams));
	const jobs = await listOwnJobs(broker(), user.id, { limit, batchId: batch, active: active === 'true' });
	return Response.json({ jobs }, { headers: { 'cache-control': 'no-store' } });
});
