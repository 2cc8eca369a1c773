import { and, eq, notExists } from 'drizzle-orm';
import { db } from '$lib/server/db';
import { islands, jobs } from '$lib/server/db/schema';
import { ApiError, api, requireUser } from '$lib/server/http';
import { forgetUser } from '$lib/server/auth/identity-cache';
import { broker } from '$lib/server/jobs';
import type { RequestHandler } from './$types';

/**
 * Removes one of the user's Islands: its token stops working at once. A job it was running
 * goes back to the queue when its lease runs out, as with any vanished Island. Not while it
 * has earnings in escrow: its recent results must stay answerable to a spot check (an Island
 * that lied and then vanished would otherwise escape quarantine and keep its wrong pictures up).
 */
export const DELETE: RequestHandler = api(async (event) => {
	const user = requireUser(event, 'islands:manage');
	const held = db()
		.select({ id: jobs.id })
		.from(jobs)
		.where(and(eq(jobs.islandId, islands.id), eq(jobs.escrow, 'held')));
	const rows = await db()
		.delete(islands)
		.where(and(eq(islands.id, event.params.id), eq(islands.userId, user.id), eq(islands.builtin, false), notExists(held)))
		.returning({ id: islands.id });
	if (rows.length === 0) {
		const [mine] = await db().select({ id: islands.id }).from(islands).where(and(eq(islands.id, event.params.id), eq(islands.userId, user.id), eq(islands.builtin, false)));
		if (!mine) throw new ApiError(404, 'not_found', 'No such Island of yours.');
		throw new ApiError(409, 'escrow_held', 'This Island has earnings in escrow; it can be removed once they are released (the escrow window is on /island).');
	}
	// Its token may be remembered (requireIslandIdentity), here and on other instances.
	forgetUser(user.id);
	await broker().bus.publish({ type: 'identity', userId: user.id });
	return new Response(null, { status: 204 });
});
