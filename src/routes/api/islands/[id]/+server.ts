import { and, eq } from 'drizzle-orm';
import { db } from '$lib/server/db';
import { islands } from '$lib/server/db/schema';
import { ApiError, api, requireUser } from '$lib/server/http';
import type { RequestHandler } from './$types';

/**
 * Removes one of the user's Islands: its token stops working at once. A job it was running
 * goes back to the queue when its lease runs out, as with any vanished Island.
 */
export const DELETE: RequestHandler = api(async (event) => {
	const user = requireUser(event, 'islands:manage');
	const rows = await db()
		.delete(islands)
		.where(and(eq(islands.id, event.params.id), eq(islands.userId, user.id), eq(islands.builtin, false)))
		.returning({ id: islands.id });
	if (rows.length === 0) throw new ApiError(404, 'not_found', 'No such Island of yours.');
	return new Response(null, { status: 204 });
});
