import { api, requireUser } from '$lib/server/http';
import { broker, findOwnJob, isTerminal, jobEventStream, notFound, sseResponse } from '$lib/server/jobs';
import { capLimits, concurrencyCaps } from '$lib/server/rate-limit';
import type { RequestHandler } from './$types';

/** SSE: `status`, `progress`, `completed`, `failed`; resumable with Last-Event-ID. */
export const GET: RequestHandler = api(async (event) => {
	const user = requireUser(event, 'jobs:read');
	// Each open stream holds a connection and a place on the queue board: capped per user,
	// and checked before any query, so a flood of refused streams costs the database nothing.
	const release = concurrencyCaps.acquire(`streams:${user.id}`, capLimits().streamsPerUser, 'event streams');
	try {
		const b = broker();
		const job = await findOwnJob(b, user.id, event.params.id);
		if (!job) throw notFound();
		const raw = event.request.headers.get('last-event-id') ?? event.url.searchParams.get('lastEventId');
		const lastEventId = raw && /^\d{1,9}$/.test(raw) ? Number(raw) : 0;
		// Finished and already seen: 204 tells EventSource to stop reconnecting.
		if (isTerminal(job.status) && lastEventId >= job.version) {
			release();
			return new Response(null, { status: 204 });
		}
		return sseResponse(jobEventStream(b, job.id, lastEventId, release));
	} catch (err) {
		release();
		throw err;
	}
});
