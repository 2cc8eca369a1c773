import { ApiError, api, requireUser } from '$lib/server/http';
import { broker, findOwnJob, notFound, shareSecret, signedImageUrl } from '$lib/server/jobs';
import type { RequestEvent } from './$types';

/**
 * POST: a signed, expiring link to the job's image that works without a session (the
 * "copy URL" of /image). Only the owner may mint one; the image route checks the signature.
 */
export const POST = api(async (event: RequestEvent) => {
	const user = requireUser(event, 'jobs:write');
	const b = broker();
	const job = await findOwnJob(b, user.id, event.params.id);
	if (!job) throw notFound();
	if (!job.imageId) throw new ApiError(409, 'no_image', 'This job has no image (yet).');
	const path = signedImageUrl(await shareSecret(b.db), job.imageId);
	const expiresAt = new Date(Number(new URL(path, event.url.origin).searchParams.get('exp')) * 1000).toISOString();
	return Response.json({ url: new URL(path, event.url.origin).href, expiresAt }, { headers: { 'cache-control': 'no-store' } });
});
