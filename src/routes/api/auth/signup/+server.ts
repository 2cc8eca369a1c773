import { Credentials } from '$lib/schemas/auth';
import { accountSummary } from '$lib/server/auth/account';
import { setSessionCookie } from '$lib/server/auth/cookies';
import { hashPassword } from '$lib/server/auth/password';
import { createSession } from '$lib/server/auth/sessions';
import { createUser, toSessionUser } from '$lib/server/auth/users';
import { db } from '$lib/server/db';
import { api, ApiError, clientAddress, readJson } from '$lib/server/http';
import { enforce, remember } from '$lib/server/rate-limit';

export const POST = api(async (event) => {
	const { request, cookies, url } = event;
	const { email, password } = await readJson(request, Credentials);
	// Counted before the (deliberately slow) password hash.
	await enforce([['signupIp', clientAddress(event), 'sign-ups from your network']]);
	const row = await createUser(db(), email, await hashPassword(password));
	if (!row) throw new ApiError(409, 'email_taken', 'An account with this email already exists. Log in instead.');
	await remember(db(), `${row.email.toLowerCase()}|${clientAddress(event)}`);
	const session = await createSession(db(), row.id);
	setSessionCookie(cookies, url, session.token, session.expiresAt);
	return Response.json(await accountSummary(db(), toSessionUser(row)), { status: 201 });
});
