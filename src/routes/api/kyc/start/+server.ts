import { db } from '$lib/server/db';
import { api, readJson, requireUser } from '$lib/server/http';
import { startVerification } from '$lib/server/kyc';
import { z } from 'zod';

export const POST = api(async (event) => {
	const user = requireUser(event, 'session');
	// The provider's own schema checks the fields; here only "a JSON object".
	const body = await readJson(event.request, z.record(z.string(), z.unknown()), 4 * 1024);
	const result = await startVerification(db(), user, body, { returnUrl: new URL('/verify?from=stripe', event.url).toString() });
	return Response.json(result, { headers: { 'cache-control': 'no-store' } });
});
