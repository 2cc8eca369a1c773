import { ApiError, api, readBody } from '$lib/server/http';
import { broker, completeJob, MAX_RESULT_BYTES, requireIslandIdentity } from '$lib/server/jobs';
import type { RequestHandler } from './$types';

/** `image/png` body with an `X-Lease` header: stored and settled, or 422 and back to the queue. */
export const POST: RequestHandler = api(async (event) => {
	const b = broker();
	const island = await requireIslandIdentity(b.db, event);
	const lease = event.request.headers.get('x-lease');
	if (!lease) throw new ApiError(400, 'lease_required', 'Send the job\'s lease in the X-Lease header.');
	const type = event.request.headers.get('content-type') ?? '';
	if (!type.toLowerCase().startsWith('image/png')) throw new ApiError(415, 'unsupported_media_type', 'Send the result as image/png.');
	const png = await readBody(event.request, MAX_RESULT_BYTES).catch((err) => {
		// Past the server-wide BODY_SIZE_LIMIT the adapter errors the stream itself.
		throw err instanceof ApiError ? err : new ApiError(413, 'payload_too_large', `The result is larger than ${MAX_RESULT_BYTES} bytes.`);
	});
	return Response.json(await completeJob(b, island, event.params.id, lease, png));
});
