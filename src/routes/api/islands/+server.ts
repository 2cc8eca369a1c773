import { count, desc, eq } from 'drizzle-orm';
import { db } from '$lib/server/db';
import { islands } from '$lib/server/db/schema';
import { api, ApiError, clientAddress, readJson, requireUser } from '$lib/server/http';
import { RegisterIslandBody, registerIsland } from '$lib/server/jobs';
import { islandView } from '$lib/server/jobs/islands';
import { capLimits, enforce } from '$lib/server/rate-limit';
import { escrowedBy } from '$lib/server/trust/escrow';

/** Registers an Island for the signed-in user; the `isl_…` token is shown once. */
export const POST = api(async (event) => {
	const user = requireUser(event, 'islands:manage');
	const body = await readJson(event.request, RegisterIslandBody);
	// Islands earn: their owners are verified like requesters (the claim checks it again).
	if (user.kycStatus !== 'verified') {
		throw new ApiError(403, 'owner_not_verified', 'Islands earn credits, so their owners verify their identity first: see /account.');
	}
	await enforce([
		['islandsUser', user.id, 'Islands registered today'],
		['accountWritesIp', clientAddress(event), 'requests from your network']
	]);
	const max = capLimits().islandsPerUser;
	const [held] = await db().select({ n: count() }).from(islands).where(eq(islands.userId, user.id));
	if (held.n >= max) throw new ApiError(409, 'too_many_islands', `You have ${max} Islands, the most allowed. Remove one first.`);
	return Response.json(await registerIsland(db(), user.id, body), { status: 201, headers: { 'cache-control': 'no-store' } });
});

export const GET = api(async (event) => {
	const user = requireUser(event, 'islands:manage');
	const rows = await db().select().from(islands).where(eq(islands.userId, user.id)).orderBy(desc(islands.createdAt));
	const escrowed = await escrowedBy(db(), rows.map((r) => r.id));
	return Response.json({ islands: rows.map((r) => islandView(r, escrowed.get(r.id))) }, { headers: { 'cache-control': 'no-store' } });
});
