import { listApiKeys } from '$lib/server/auth/api-keys';
import { db } from '$lib/server/db';
import { recentMovements } from '$lib/server/ledger';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const user = locals.user!;
	const [keys, movements] = await Promise.all([listApiKeys(db(), user.id), recentMovements(db(), user.id, 20)]);
	return {
		keys,
		movements: movements.map((m) => ({ ...m, createdAt: m.createdAt.toISOString() }))
	};
};
