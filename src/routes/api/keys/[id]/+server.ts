import { revokeApiKey } from '$lib/server/auth/api-keys';
import { db } from '$lib/server/db';
import { ApiError, api, requireUser } from '$lib/server/http';
import type { RequestHandler } from './$types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const DELETE: RequestHandler = api(async (event) => {
	const user = requireUser(event, 'session');
	const id = event.params.id;
	if (!UUID.test(id) || !(await revokeApiKey(db(), user.id, id))) {
		throw new ApiError(404, 'not_found', 'No such active API key.');
	}
	return new Response(null, { status: 204 });
});
