import { db } from '$lib/server/db';
import { kycConfig, kycState } from '$lib/server/kyc';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, depends }) => {
	depends('app:kyc');
	// The (app) layout already sent anyone signed out to /login.
	return { kyc: await kycState(db(), locals.user!.id, kycConfig()) };
};
