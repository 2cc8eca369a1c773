import { ApiError, api } from '$lib/server/http';
import { broker, sharedImageCacheControl, shareSecret, verifyImageSignature } from '$lib/server/jobs';
import type { RequestHandler } from './$types';

/** The owner's image, or anyone's with a valid, unexpired share signature. */
export const GET: RequestHandler = api(async (event) => {
	const b = broker();
	const image = await b.images.get(b.db, event.params.id);
	const sig = event.url.searchParams.get('sig');
	const keyMayRead = !event.locals.apiKeyScopes || event.locals.apiKeyScopes.includes('jobs:read');
	const owner = image !== null && event.locals.user?.id === image.userId && keyMayRead;
	const allowed = owner || (image !== null && sig !== null && verifyImageSignature(await shareSecret(b.db), image.id, event.url.searchParams.get('exp'), sig));
	if (image?.withdrawnAt && allowed) {
		throw new ApiError(410, 'image_withdrawn', 'This picture was withdrawn: the Island that drew it was caught returning wrong pictures. The job now has a redrawn one.');
	}
	if (!image || !allowed) {
		if (sig === null && !event.locals.user) throw new ApiError(401, 'unauthenticated', 'Sign in, or use a share link.');
		// Someone else's image is indistinguishable from a missing one.
		throw new ApiError(404, 'not_found', 'No such image (or the share link expired).');
	}
	const headers: Record<string, string> = { 'content-type': 'image/png', 'content-length': String(image.bytes.byteLength) };
	if (owner) {
		// Images never change. Vary: the browser's cache must not hand the image to whoever
		// signs in next on a shared computer (or to no one, after signing out).
		headers['cache-control'] = 'private, max-age=31536000, immutable';
		headers['vary'] = 'Cookie, Authorization';
	} else {
		// Only a verified link gets here, so `exp` is digits.
		headers['cache-control'] = sharedImageCacheControl(Number(event.url.searchParams.get('exp')));
	}
	return new Response(image.bytes.slice(), { headers });
});
