/**
 * The platform's fees are kept in this many accounts, a job's always in the same one. Every
 * settlement credits fees, and a posting holds its accounts' row locks until its transaction
 * commits: with one fee account, every settlement on PostgreSQL queued behind the one before
 * it (docs/broker-costs.md). The platform's fees are the sum of `platform:fees:*`.
 */
export const FEE_SHARDS = 16;

/** FNV-1a of the job's id: any job id, spread evenly over the fee accounts. */
function feeShard(jobId: string): number {
	let hash = 0x811c9dc5;
	for (let i = 0; i < jobId.length; i++) hash = Math.imul(hash ^ jobId.charCodeAt(i), 0x01000193);
	return (hash >>> 0) % FEE_SHARDS;
}

export const ledgerAccount = {
	available: (userId: string) => `user:${userId}:available`,
	held: (userId: string) => `user:${userId}:held`,
	// An Island's earnings until its escrow window passes (trust/escrow.ts).
	escrow: (islandId: string) => `island:${islandId}:escrow`,
	/** The fee account a job's fee, and the platform's pay for it as verification work, move through. */
	fees: (jobId: string) => `platform:fees:${feeShard(jobId)}`,
	/**
	 * Where forfeited escrow goes back to the platform: one account, not each job's. A result's
	 * transaction posts to its job's fee account first and may then quarantine an Island and
	 * forfeit several jobs' escrow; were those the jobs' own fee accounts, two such transactions
	 * could lock them in opposite orders and deadlock. With one, every transaction that takes
	 * both takes the job's fee account first.
	 */
	forfeits: 'platform:fees:forfeited',
	grants: 'platform:grants'
} as const;

/** A fee account, including `platform:fees`, where fees were kept before they were split. */
export const isFeeAccount = (accountId: string) => accountId === 'platform:fees' || accountId.startsWith('platform:fees:');

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
