import { accountSummary } from '$lib/server/auth/account';
import { db } from '$lib/server/db';
import { api, requireUser } from '$lib/server/http';

export const GET = api(async (event) => {
	const user = requireUser(event);
	return Response.json(await accountSummary(db(), user), { headers: { 'cache-control': 'no-store' } });
});
