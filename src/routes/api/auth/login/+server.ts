import { Credentials } from '$lib/schemas/auth';
import { accountSummary } from '$lib/server/auth/account';
import { setSessionCookie } from '$lib/server/auth/cookies';
import { DUMMY_HASH, verifyPassword } from '$lib/server/auth/password';
import { createSession } from '$lib/server/auth/sessions';
import { findUserByEmail, toSessionUser } from '$lib/server/auth/users';
import { db } from '$lib/server/db';
import { ApiError, api, readJson } from '$lib/server/http';

export const POST = api(async ({ request, cookies, url }) => {
	const { email, password } = await readJson(request, Credentials);
	const row = await findUserByEmail(db(), email);
	// Always verify against some hash so a missing account takes as long as a wrong password.
	const valid = await verifyPassword(password, row?.passwordHash ?? DUMMY_HASH);
	if (!row || !valid) throw new ApiError(401, 'invalid_credentials', 'Email or password is wrong.');
	const session = await createSession(db(), row.id);
	setSessionCookie(cookies, url, session.token, session.expiresAt);
	return Response.json(await accountSummary(db(), toSessionUser(row)));
});
