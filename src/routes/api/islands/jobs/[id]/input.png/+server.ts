import { ApiError, api } from '$lib/server/http';
import { broker, inputPng, requireIslandIdentity } from '$lib/server/jobs';
import type { RequestHandler } from './$types';

/** A variation's input picture, for the Island holding the job (its lease in `X-Lease`). */
export const GET: RequestHandler = api(async (event) => {
	const b = broker();
	const island = await requireIslandIdentity(b.db, event);
	const lease = event.request.headers.get('x-lease');
	if (!lease) throw new ApiError(400, 'lease_required', 'Send the job\'s lease in the X-Lease header.');
	const png = await inputPng(b, island.id, event.params.id, lease);
	// Private to this lease: no cache may keep it for anyone else.
	return new Response(png.slice(), { headers: { 'content-type': 'image/png', 'content-length': String(png.byteLength), 'cache-control': 'no-store' } });
});
