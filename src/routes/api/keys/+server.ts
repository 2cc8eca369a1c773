import { ApiKeyCreate } from '$lib/schemas/auth';
import { activeKeyCount, createApiKey, listApiKeys } from '$lib/server/auth/api-keys';
import { db } from '$lib/server/db';
import { api, ApiError, clientAddress, readJson, requireUser } from '$lib/server/http';
import { capLimits, enforce } from '$lib/server/rate-limit';

export const GET = api(async (event) => {
	const user = requireUser(event, 'session');
	return Response.json({ keys: await listApiKeys(db(), user.id) });
});

/** A leaked key must not be able to mint more keys for itself: sessions only. */
export const POST = api(async (event) => {
	const user = requireUser(event, 'session');
	const { name, scopes } = await readJson(event.request, ApiKeyCreate);
	await enforce([
		['keysUser', user.id, 'API keys created'],
		['accountWritesIp', clientAddress(event), 'requests from your network']
	]);
	const max = capLimits().apiKeysPerUser;
	if ((await activeKeyCount(db(), user.id)) >= max) {
		throw new ApiError(409, 'too_many_keys', `You have ${max} active API keys, the most allowed. Revoke one first.`);
	}
	const { key, secret } = await createApiKey(db(), user.id, name, scopes);
	return Response.json({ key, secret }, { status: 201 });
});
