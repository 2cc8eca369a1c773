import { desc, eq } from 'drizzle-orm';
import { db } from '$lib/server/db';
import { islands } from '$lib/server/db/schema';
import { api, readJson, requireUser } from '$lib/server/http';
import { RegisterIslandBody, registerIsland } from '$lib/server/jobs';
import { islandView } from '$lib/server/jobs/islands';

/** Registers an Island for the signed-in user; the `isl_…` token is shown once. */
export const POST = api(async (event) => {
	const user = requireUser(event);
	const body = await readJson(event.request, RegisterIslandBody);
	return Response.json(await registerIsland(db(), user.id, body), { status: 201, headers: { 'cache-control': 'no-store' } });
});

export const GET = api(async (event) => {
	const user = requireUser(event);
	const rows = await db().select().from(islands).where(eq(islands.userId, user.id)).orderBy(desc(islands.createdAt));
	return Response.json({ islands: rows.map(islandView) }, { headers: { 'cache-control': 'no-store' } });
});
