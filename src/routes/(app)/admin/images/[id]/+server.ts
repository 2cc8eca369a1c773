import { error } from '@sveltejs/kit';
import { broker } from '$lib/server/jobs';
import type { RequestHandler } from './$types';

/** Any stored picture, withdrawn ones included: the evidence beside a trust decision on /admin. */
export const GET: RequestHandler = async ({ locals, params }) => {
	if (!locals.user?.isAdmin) error(404, 'Not found');
	const b = broker();
	const image = await b.images.get(b.db, params.id);
	if (!image) error(404, 'No such image');
	return new Response(image.bytes.slice(), { headers: { 'content-type': 'image/png', 'cache-control': 'private, no-store' } });
};
