import { db } from '$lib/server/db';
import { getBalances } from '$lib/server/ledger';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async ({ locals }) => {
	const user = locals.user;
	return {
		user: user && { id: user.id, email: user.email, kycStatus: user.kycStatus, isAdmin: user.isAdmin },
		balance: user ? await getBalances(db(), user.id) : null
	};
};
