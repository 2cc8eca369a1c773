import { SESSION_COOKIE, deleteSession } from '$lib/server/auth/sessions';
import { db } from '$lib/server/db';
import { api } from '$lib/server/http';

export const POST = api(async ({ locals, cookies }) => {
	if (locals.sessionId) await deleteSession(db(), locals.sessionId);
	cookies.delete(SESSION_COOKIE, { path: '/' });
	return new Response(null, { status: 204 });
});
