import { AdminClaim } from '$lib/schemas/auth';
import { claimAdmin } from '$lib/server/auth/admin';
import { db } from '$lib/server/db';
import { api, ApiError, clientAddress, readJson, requireUser } from '$lib/server/http';
import { enforce } from '$lib/server/rate-limit';

/** The operator's claim token (printed at start, or ADMIN_CLAIM_TOKEN) makes the caller admin. */
export const POST = api(async (event) => {
	const user = requireUser(event, 'session');
	const { token } = await readJson(event.request, AdminClaim);
	await enforce([['adminClaimIp', clientAddress(event), 'admin claims from your network']]);
	if (!(await claimAdmin(db(), user.id, token))) throw new ApiError(403, 'invalid_claim_token', 'That claim token is not valid (or was already used).');
	return Response.json({ isAdmin: true });
});
