import { Credentials } from '$lib/schemas/auth';
import { accountSummary } from '$lib/server/auth/account';
import { setSessionCookie } from '$lib/server/auth/cookies';
import { DUMMY_HASH, rehashIfWeak, verifyPassword } from '$lib/server/auth/password';
import { createSession } from '$lib/server/auth/sessions';
import { findUserByEmail, toSessionUser } from '$lib/server/auth/users';
import { db } from '$lib/server/db';
import { api, ApiError, clientAddress, readJson } from '$lib/server/http';
import { countAgainst, enforce, isRemembered, remember, tooMany } from '$lib/server/rate-limit';

export const POST = api(async (event) => {
	const { request, cookies, url } = event;
	const ip = clientAddress(event);
	// The body is read once, here, and the budgets count the email it names: a body the
	// route can read is a body the limiter counts (no second, smaller parse to slip past).
	const { email, password } = await readJson(request, Credentials);
	const account = email.trim().toLowerCase();
	await enforce([
		['loginIp', ip, 'login attempts from your network'],
		['loginAccountIp', `${account}|${ip}`, 'login attempts for this account']
	]);
	// The ceiling across addresses stops guessing spread over many addresses. Once it is spent
	// only addresses this account has signed in from before may still try, so an attacker
	// can't lock the owner out of their usual places.
	const ceiling = await countAgainst('loginAccount', account);
	if (!ceiling.allowed && !(await isRemembered(db(), `${account}|${ip}`))) throw tooMany(ceiling, 'login attempts for this account');
	const row = await findUserByEmail(db(), email);
	// Always verify against some hash so a missing account takes as long as a wrong password.
	const valid = await verifyPassword(password, row?.passwordHash ?? DUMMY_HASH);
	if (!row || !valid) throw new ApiError(401, 'invalid_credentials', 'Email or password is wrong.');
	await rehashIfWeak(db(), row.id, password, row.passwordHash);
	await remember(db(), `${account}|${ip}`);
	const session = await createSession(db(), row.id);
	setSessionCookie(cookies, url, session.token, session.expiresAt);
	return Response.json(await accountSummary(db(), toSessionUser(row)));
});
