import { ApiError, api } from '$lib/server/http';
import { broker, shareSecret, verifyImageSignature } from '$lib/server/jobs';
import type { RequestHandler } from './$types';

/** The owner's image, or anyone's with a valid, unexpired share signature. */
export const GET: RequestHandler = api(async (event) => {
	const b = broker();
	const image = await b.images.get(b.db, event.params.id);
	const sig = event.url.searchParams.get('sig');
	const keyMayRead = !event.locals.apiKeyScopes || event.locals.apiKeyScopes.includes('jobs:read');
	const owner = image !== null && event.locals.user?.id === image.userId && keyMayRead;
	const allowed = owner || (image !== null && sig !== null && verifyImageSignature(await shareSecret(b.db), image.id, event.url.searchParams.get('exp'), sig));
	if (!image || !allowed) {
		if (sig === null && !event.locals.user) throw new ApiError(401, 'unauthenticated', 'Sign in, or use a share link.');
		// Someone else's image is indistinguishable from a missing one.
		throw new ApiError(404, 'not_found', 'No such image (or the share link expired).');
	}
	return new Response(image.bytes.slice(), {
		headers: {
			'content-type': 'image/png',
			'content-length': String(image.bytes.byteLength),
			'cache-control': owner ? 'private, max-age=31536000, immutable' : 'public, max-age=3600'
		}
	});
});
