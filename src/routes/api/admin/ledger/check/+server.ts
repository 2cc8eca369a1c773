import { db } from '$lib/server/db';
import { ApiError, api, requireUser } from '$lib/server/http';
import { checkLedger } from '$lib/server/ledger';

export const GET = api(async (event) => {
	const user = requireUser(event, 'session');
	// Admin routes don't admit they exist to anyone else.
	if (!user.isAdmin) throw new ApiError(404, 'not_found', 'Not found.');
	return Response.json(await checkLedger(db()), { headers: { 'cache-control': 'no-store' } });
});
