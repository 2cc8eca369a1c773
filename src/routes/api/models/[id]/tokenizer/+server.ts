import { api, ApiError } from '$lib/server/http';
import { broker } from '$lib/server/jobs';
import { promptWindow, remoteTokenizer } from '$lib/server/models';
import type { RequestHandler } from './$types';

/**
 * A model's tokenizer.json, for the /image page's prompt-length warning: a remote model's
 * (SD-Turbo's) comes through the server, which fetched and verified it once; the app's own
 * models' files are static, so those redirect there.
 */
export const GET: RequestHandler = api(async ({ params }) => {
	const model = broker().models.get(params.id);
	if (!model) throw new ApiError(404, 'not_found', 'No such model.');
	const bytes = remoteTokenizer(model);
	if (!bytes) return new Response(null, { status: 308, headers: { location: promptWindow(model).tokenizerUrl } });
	const body = await bytes.catch((err) => {
		console.error(`tokenizer of ${model.id}: ${err instanceof Error ? err.message : err}`);
		throw new ApiError(502, 'model_unavailable', 'This model’s tokenizer could not be fetched right now; try again in a minute.');
	});
	return new Response(body.slice().buffer, { headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=86400' } });
});
