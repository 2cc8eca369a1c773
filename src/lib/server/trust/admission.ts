// Whether an Island may claim at all, decided inside the claim's transaction on its locked row:
// a quarantined Island or one whose owner is not verified gets nothing, and one already
// holding its leases gets nothing more (one model run at a time, by default).
import { and, count, eq, sql, type Placeholder } from 'drizzle-orm';
import type { Queryable } from '../db';
import { islands, jobs, users } from '../db/schema';
import { ApiError } from '../http';
import { hotStatement, hotStatements } from '../db/hot';
import { trustConfig } from './config';
import { claimableBy, claimantValues, claimShape, type Claimant, type ClaimShape } from './eligibility';
import { eqLiteral } from '../db/literal';

type IslandRow = typeof islands.$inferSelect;

/** What the claim route knows of the Island before the transaction (its row, the body's capabilities). */
export function claimantOf(row: IslandRow, caps: { models?: string[]; maxPixels?: number } = {}): Claimant {
	return {
		id: row.id,
		ownerId: row.userId,
		models: caps.models ?? row.models,
		maxPixels: caps.maxPixels ?? row.maxPixels,
		probation: row.trust === 'probation' && !row.vouched && row.canariesPassed < trustConfig().probationCanaries,
		vouched: row.vouched
	};
}

export function quarantined(row: Pick<IslandRow, 'quarantineReason'>) {
	return new ApiError(403, 'island_quarantined', `This Island is quarantined: ${row.quarantineReason ?? 'its results could not be trusted'}. Its owner can ask an admin to review it.`);
}

/**
 * The claim's refusals and whether any job waits for it, read in one statement without a
 * transaction or a lock. Most claims find nothing (an Island back from its result, a
 * long-poll's safety-net re-check), and the locked transaction cost five statements to learn
 * that. Advisory: a claim it lets through runs the locked transaction, which decides.
 */
export async function precheckClaim(db: Queryable, request: Claimant): Promise<{ jobWaiting: boolean }> {
	const [row] = await precheck(db, claimShape(request), claimantValues(request));
	refuseUnverifiedOwner(row.kyc);
	refuseFullLeases(row.held);
	return { jobWaiting: row.jobWaiting };
}

const precheck = hotStatements((db, shape: ClaimShape) =>
	db
		.select({
			kyc: sql<string | null>`(select ${users.kycStatus} from ${users} where ${users.id} = ${sql.placeholder('ownerId')})`,
			held: sql<number>`(select count(*)::int from ${jobs} where ${leasesOf(sql.placeholder('islandId'))})`,
			jobWaiting: sql<boolean>`exists (select 1 from ${jobs} where ${claimableBy(shape)})`
		})
		.from(sql`(select 1) as one`)
);

/** The jobs an Island holds a lease on (found by jobs_running_island_idx). */
const leasesOf = (islandId: string | Placeholder) => and(eq(jobs.islandId, islandId), eqLiteral(jobs.status, 'running'))!;

/** Islands earn only for verified owners. */
function refuseUnverifiedOwner(kyc: string | null) {
	if (kyc !== 'verified') {
		throw new ApiError(403, 'owner_not_verified', 'Islands earn only for verified owners: verify your identity on /account first.');
	}
}

/** An Island already holding as many leases as it may gets 409. */
function refuseFullLeases(held: number) {
	const { maxLeasesPerIsland } = trustConfig();
	if (held >= maxLeasesPerIsland) {
		throw new ApiError(409, 'lease_limit', `This Island already holds ${held} job${held === 1 ? '' : 's'} (at most ${maxLeasesPerIsland} at once): finish or fail it first.`, undefined, {
			'retry-after': '5'
		});
	}
}

/**
 * The claim's guarded UPDATE takes a job only while the Island holds fewer leases than it may
 * (its own statement, not a count before it: one statement less on every claim). Exact under
 * concurrency: the claim's transaction already holds the Island's row lock (admitClaimant), so
 * the UPDATE's snapshot, taken after it, sees every lease committed by the claims before.
 * Placeholders: `islandId`, `maxLeases` (trustConfig().maxLeasesPerIsland).
 */
export function underLeaseLimit() {
	return sql`(select count(*) from ${jobs} where ${leasesOf(sql.placeholder('islandId'))}) < ${sql.placeholder('maxLeases')}`;
}

/** After a claim's UPDATE took nothing: 409 if the lease limit is why, not an empty queue. */
export async function refuseAtLeaseLimit(tx: Queryable, islandId: string) {
	const [held] = await tx.select({ n: count() }).from(jobs).where(leasesOf(islandId));
	refuseFullLeases(held.n);
}

/** The Island's row, locked, and its owner's verification. */
const lockIsland = hotStatement((db) =>
	db
		.select({ island: islands, kyc: users.kycStatus })
		.from(islands)
		.innerJoin(users, eq(users.id, islands.userId))
		.where(eq(islands.id, sql.placeholder('id')))
		.for('update', { of: islands })
);

/**
 * Locks the Island's row and re-reads it; throws the reason it may not claim now. Its leases are
 * counted here only for an Island on probation, which is handed a canary next; anyone else's
 * are counted by the claim's UPDATE (underLeaseLimit).
 */
export async function admitClaimant(tx: Queryable, request: Claimant): Promise<Claimant> {
	const [row] = await lockIsland(tx, { id: request.id });
	if (!row) throw new ApiError(401, 'invalid_island_token', 'This Island no longer exists.');
	const { island } = row;
	if (island.trust === 'quarantined') throw quarantined(island);
	refuseUnverifiedOwner(row.kyc);
	const { probationCanaries } = trustConfig();
	// Probation ends at K canaries passed (or at once when an operator sets K lower).
	if (island.trust === 'probation' && island.canariesPassed >= probationCanaries) {
		await tx.update(islands).set({ trust: 'trusted', trustedAt: sql`now()` }).where(eq(islands.id, island.id));
		island.trust = 'trusted';
	}
	const claimant = claimantOf(island, { models: request.models, maxPixels: request.maxPixels });
	if (claimant.probation) await refuseAtLeaseLimit(tx, island.id);
	return claimant;
}
