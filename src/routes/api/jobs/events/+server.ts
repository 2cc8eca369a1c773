import { and, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { jobs } from '$lib/server/db/schema';
import { api, parseWith, requireUser } from '$lib/server/http';
import { broker, isTerminal, jobsEventStream, notFound, sseResponse } from '$lib/server/jobs';
import { capLimits, concurrencyCaps } from '$lib/server/rate-limit';

/**
 * At most this many jobs on one stream (a page asks for its jobs in flight). A finished job costs
 * one read and drops out; the ones still going are the user's own, so at most
 * MAX_ACTIVE_JOBS_PER_USER of them are followed per stream, whatever the list holds.
 */
const MAX_IDS = 50;

const Query = z.strictObject({
	ids: z
		.string()
		.transform((s) => [...new Set(s.split(','))])
		.pipe(z.array(z.string().min(1).max(100)).min(1).max(MAX_IDS))
});

/** SSE for several of the caller's jobs at once: the events of /api/jobs/:id/events, each with its job's `id`. */
export const GET = api(async (event) => {
	const user = requireUser(event, 'jobs:read');
	const { ids } = parseWith(Query, Object.fromEntries(event.url.searchParams));
	// One connection, one place under the per-user cap, however many jobs it carries.
	const release = concurrencyCaps.acquire(`streams:${user.id}`, capLimits().streamsPerUser, 'event streams');
	try {
		const b = broker();
		const own = await b.db
			.select({ id: jobs.id, status: jobs.status })
			.from(jobs)
			.where(and(eq(jobs.userId, user.id), inArray(jobs.id, ids)));
		// Another user's job is indistinguishable from a missing one.
		if (own.length !== ids.length) throw notFound();
		// Nothing left to follow: 204 tells EventSource to stop reconnecting.
		if (own.every((j) => isTerminal(j.status))) {
			release();
			return new Response(null, { status: 204 });
		}
		return sseResponse(jobsEventStream(b, ids, release));
	} catch (err) {
		release();
		throw err;
	}
});
