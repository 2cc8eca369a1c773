import { ApiKeyCreate } from '$lib/schemas/auth';
import { createApiKey, listApiKeys } from '$lib/server/auth/api-keys';
import { db } from '$lib/server/db';
import { ApiError, api, readJson, requireUser } from '$lib/server/http';

export const GET = api(async (event) => {
	const user = requireUser(event);
	return Response.json({ keys: await listApiKeys(db(), user.id) });
});

export const POST = api(async (event) => {
	const user = requireUser(event);
	// A leaked key must not be able to mint more keys for itself.
	if (event.locals.apiKeyId) throw new ApiError(403, 'session_required', 'API keys can only be created from a signed-in session.');
	const { name } = await readJson(event.request, ApiKeyCreate);
	const { key, secret } = await createApiKey(db(), user.id, name);
	return Response.json({ key, secret }, { status: 201 });
});
