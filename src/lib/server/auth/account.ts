import type { Queryable } from '../db';
import { getBalances } from '../ledger';
import type { SessionUser } from './users';

/** The body of GET /api/me, also the data the pages start from. */
export async function accountSummary(tx: Queryable, user: SessionUser) {
	return {
		user: { id: user.id, email: user.email, kycStatus: user.kycStatus, isAdmin: user.isAdmin },
		balance: await getBalances(tx, user.id)
	};
}
