import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { db } from '$lib/server/db';
import { users } from '$lib/server/db/schema';
import { ApiError, api, readJson, requireUser } from '$lib/server/http';

const Body = z.strictObject({ status: z.enum(['unverified', 'pending', 'verified', 'rejected']) });

/**
 * Tests only (ARCHIPELAGO_TEST_HOOKS=1): sets the caller's KYC status directly, so broker
 * tests don't depend on a verification provider. Absent (404) in every other deployment.
 */
export const POST = api(async (event) => {
	if (process.env.ARCHIPELAGO_TEST_HOOKS !== '1') throw new ApiError(404, 'not_found', 'Not found.');
	const user = requireUser(event);
	const { status } = await readJson(event.request, Body);
	await db().update(users).set({ kycStatus: status }).where(eq(users.id, user.id));
	return Response.json({ kycStatus: status });
});
