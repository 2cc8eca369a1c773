import { AccountDeletion } from '$lib/schemas/auth';
import { accountSummary } from '$lib/server/auth/account';
import { SESSION_COOKIE } from '$lib/server/auth/sessions';
import { verifyPassword } from '$lib/server/auth/password';
import { db } from '$lib/server/db';
import { users } from '$lib/server/db/schema';
import { api, ApiError, clientAddress, readJson, requireUser } from '$lib/server/http';
import { broker } from '$lib/server/jobs';
import { deleteAccount } from '$lib/server/privacy/account';
import { enforce } from '$lib/server/rate-limit';
import { eq } from 'drizzle-orm';

export const GET = api(async (event) => {
	const user = requireUser(event);
	return Response.json(await accountSummary(db(), user), { headers: { 'cache-control': 'no-store' } });
});

/**
 * Deletes the caller's account: a session only (a leaked key must not end its owner's account),
 * with the password and the typed phrase, so neither a borrowed session nor a slip deletes it.
 */
export const DELETE = api(async (event) => {
	const user = requireUser(event, 'session');
	const { password } = await readJson(event.request, AccountDeletion);
	// Password guesses here count against the same budget as the login's.
	await enforce([['loginAccountIp', `${user.email.trim().toLowerCase()}|${clientAddress(event)}`, 'password attempts for this account']]);
	const [row] = await db().select({ hash: users.passwordHash }).from(users).where(eq(users.id, user.id));
	if (!row || !(await verifyPassword(password, row.hash))) {
		throw new ApiError(403, 'wrong_password', 'That password is wrong; your account was not deleted.');
	}
	if (!(await deleteAccount(broker(), user.id))) throw new ApiError(404, 'not_found', 'This account is already deleted.');
	event.cookies.delete(SESSION_COOKIE, { path: '/' });
	return new Response(null, { status: 204 });
});
