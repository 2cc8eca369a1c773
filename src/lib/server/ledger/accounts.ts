export const ledgerAccount = {
	available: (userId: string) => `user:${userId}:available`,
	held: (userId: string) => `user:${userId}:held`,
	// An Island's earnings until its escrow window passes (trust/escrow.ts).
	escrow: (islandId: string) => `island:${islandId}:escrow`,
	fees: 'platform:fees',
	grants: 'platform:grants'
} as const;

/** The Island owner's share of a settled job; the platform keeps the rest. */
export const OWNER_SHARE = 0.8;

export class InsufficientCreditsError extends Error {
	constructor(
		readonly accountId: string,
		readonly needed: number
	) {
		super(`insufficient credits in ${accountId} (needed ${needed})`);
	}
}

/** A deleted user's account: nothing moves in or out of it any more. */
export class AccountClosedError extends Error {
	constructor(readonly accountId: string) {
		super(`ledger account ${accountId} is closed`);
	}
}
