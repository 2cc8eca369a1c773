// Handing queued jobs to Islands: one guarded claim statement, and long-polls that sleep
// until the event bus says a job they can run was queued (any instance's NOTIFY wakes them).
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../db';
import type { BrokerEvent, EventBus } from '../events';
import { islands, jobs, users } from '../db/schema';
import type { ClaimResponse } from '$lib/api';
import type { Broker } from './context';
import { hashLease, leaseSecret, leaseToken } from './lease';
import { releaseClaim } from './lifecycle';
import { jobVersionBump } from './views';
import { ISLAND_OFFLINE_AFTER_MS } from './islands';
import { admitClaimant, precheckClaim, refuseAtLeaseLimit, underLeaseLimit } from '../trust/admission';
import { provideCanary } from '../trust/canaries';
import { claimableBy, claimantValues, claimShape, mayWake, type Claimant, type ClaimShape } from '../trust/eligibility';
import { trustConfig } from '../trust/config';
import { hotStatements, slot } from '../db/hot';
import { paramsForIsland } from './variations';
import { eqLiteral } from '../db/literal';

export type { Claimant };

/** The claim an Island gets (the contract's ClaimResponse). */
export type Claim = ClaimResponse;

/** The longest a claim request is held open. */
export const CLAIM_LONG_POLL_MS = 25_000;
/**
 * A safety net for a lost wake-up (a dropped LISTEN connection, a wake that raced another
 * instance): a sleeping claim re-checks the queue this often. Wake-ups normally come from
 * the bus within milliseconds, so this is deliberately far slower.
 */
export const CLAIM_FALLBACK_POLL_MS = 10_000;

/**
 * Claims the oldest queued job the Island may take (trust/eligibility.ts). One transaction:
 * the Island's row is locked and re-read (its trust, its owner's verification, the leases it
 * holds), then one guarded UPDATE takes the job: the row is locked with SKIP LOCKED
 * (concurrent claimers take different jobs) and its status re-checked, so a job is leased to
 * exactly one Island. Returns the Island as it stands now, for the next sleep.
 */
export async function claimOnce(broker: Broker, request: Claimant, options: { precheck?: boolean } = {}): Promise<{ claim: Claim | null; claimant: Claimant }> {
	// An Island on probation is handed canaries inside the transaction: it always runs it.
	if (options.precheck && !request.probation) {
		const { jobWaiting } = await precheckClaim(broker.db, request);
		if (!jobWaiting) return { claim: null, claimant: request };
	}
	const secret = leaseSecret();
	// PGlite runs one transaction at a time, so locking the Island's row orders nothing there: a
	// trusted Island's claim is its guarded UPDATE alone, which re-checks what the locked read
	// would (admittedAsClaimed). Only when it takes nothing does the transaction run, to say why.
	const taken = broker.serialTransactions && !request.probation && request.models.length > 0 ? await leaseNextJob(broker.db, request, secret, { admitted: true }) : null;
	if (taken) return leased(broker, taken, request, secret);
	const { row, claimant, wakes } = await broker.db.transaction(async (tx) => {
		const claimant = await admitClaimant(tx, request);
		const wakes = claimant.probation ? await provideCanary(tx, broker, claimant) : [];
		const row = claimant.models.length === 0 ? null : await leaseNextJob(tx, claimant, secret);
		// Nothing taken: a full lease count is a 409, an empty queue is not (probation counted it before).
		if (!row && !claimant.probation) await refuseAtLeaseLimit(tx, claimant.id);
		return { row, claimant, wakes };
	});
	for (const wake of wakes) void broker.bus.publish(wake);
	if (!row) return { claim: null, claimant };
	return leased(broker, row, claimant, secret);
}

type LeasedRow = NonNullable<Awaited<ReturnType<typeof leaseNextJob>>>;

function leased(broker: Broker, row: LeasedRow, claimant: Claimant, secret: string): { claim: Claim; claimant: Claimant } {
	// Watchers only: the Island's answer doesn't wait for it.
	void broker.bus.publish({ type: 'job', id: row.id });
	return {
		claimant,
		claim: {
			job: { id: row.id, params: paramsForIsland(row.params), tier: row.tier, attempt: row.attempts },
			lease: { token: leaseToken(row.attempts, secret), expiresAt: row.leaseExpiresAt!.toISOString(), ttlMs: row.leaseTtlMs }
		}
	};
}

/**
 * Leases the claimant the oldest job it may take, while it holds fewer leases than allowed
 * (underLeaseLimit); null when there is none. Runs inside the claim's transaction, after
 * admitClaimant locked the Island's row; or, `admitted`, on its own (PGlite), the admission
 * re-checked by the statement itself (admittedAsClaimed).
 */
async function leaseNextJob(db: Queryable, claimant: Claimant, secret: string, { admitted = false } = {}) {
	const [row] = await leaseStatement(db, `${claimShape(claimant)}${admitted ? '/admitted' : ''}`, {
		...claimantValues(claimant),
		secret,
		maxLeases: trustConfig().maxLeasesPerIsland
	});
	return row ?? null;
}

/**
 * What admitClaimant checks of a trusted claimant, as a condition of the claim's UPDATE (PGlite):
 * its Island still trusted (not quarantined, not back on probation) with the standing its rule
 * was made for (vouched or not), and its owner verified. An Island whose standing changed takes
 * nothing here, and the locked transaction then decides with its row as it is now.
 */
function admittedAsClaimed(rule: ClaimShape) {
	const vouched = rule.startsWith('vouched/');
	return sql`exists (select 1 from ${islands} join ${users} on ${users.id} = ${islands.userId}
		where ${islands.id} = ${sql.placeholder('islandId')} and ${islands.trust} = 'trusted' and ${islands.vouched} = ${vouched} and ${users.kycStatus} = 'verified')`;
}

/** The claim's guarded UPDATE, built once per shape of the Island's rule (db/hot.ts), and with admittedAsClaimed for `…/admitted`. */
const leaseStatement = hotStatements((tx, shape: `${ClaimShape}${'' | '/admitted'}`) => {
	const rule = shape.replace(/\/admitted$/, '') as ClaimShape;
	const next = tx
		.select({ id: jobs.id })
		.from(jobs)
		.where(claimableBy(rule))
		.orderBy(asc(jobs.createdAt), asc(jobs.id))
		.limit(1)
		.for('update', { skipLocked: true });
	// The token names its attempt, which only the statement knows: PostgreSQL builds and
	// hashes it, and the same token is rebuilt here from the returned attempt number.
	return (
		tx
			.update(jobs)
			.set({
				status: 'running',
				attempts: sql`${jobs.attempts} + 1`,
				version: jobVersionBump,
				leaseTokenHash: sql`encode(sha256(convert_to('lease_' || (${jobs.attempts} + 1)::text || '_' || ${sql.placeholder('secret')}, 'UTF8')), 'hex')`,
				leaseExpiresAt: sql`now() + ${jobs.leaseTtlMs} * interval '1 millisecond'`,
				islandId: slot<string>('islandId'),
				startedAt: sql`now()`,
				updatedAt: sql`now()`
			})
			// A scalar subquery runs once (an InitPlan). `id IN (… LIMIT 1 FOR UPDATE SKIP LOCKED)`
			// may be re-run per scanned row and update several jobs in one claim.
			.where(and(eq(jobs.id, sql`(${next})`), eqLiteral(jobs.status, 'queued'), underLeaseLimit(), rule === shape ? undefined : admittedAsClaimed(rule)))
			// What the Island is told, not the whole row: parsing a row's 35 columns is a cost of its own.
			.returning({ id: jobs.id, params: jobs.params, tier: jobs.tier, attempts: jobs.attempts, leaseExpiresAt: jobs.leaseExpiresAt, leaseTtlMs: jobs.leaseTtlMs })
	);
});

interface Waiter {
	island: Claimant;
	wake(): void;
}

/** The sleeping long-polls of this instance. */
export class ClaimDispatcher {
	#waiters: Waiter[] = [];
	#draining = false;
	#unsubscribe: () => void;

	constructor(bus: EventBus) {
		this.#unsubscribe = bus.subscribe((event) => {
			if (event.type === 'queued') this.#wakeOne(event);
		});
	}

	get draining() {
		return this.#draining;
	}

	get sleeping() {
		return this.#waiters.length;
	}

	/** One job wakes one Island (the longest-waiting that may take it), not a thundering herd. */
	#wakeOne(event: Extract<BrokerEvent, { type: 'queued' }>) {
		const i = this.#waiters.findIndex((w) => mayWake(w.island, event));
		if (i < 0) return;
		const [waiter] = this.#waiters.splice(i, 1);
		waiter.wake();
	}

	/** Registered before the claim query runs, so a job queued meanwhile can't be missed. */
	register(island: Claimant): { woken: Promise<void>; cancel(): void } {
		let wake!: () => void;
		const woken = new Promise<void>((resolve) => (wake = resolve));
		const waiter: Waiter = { island, wake };
		this.#waiters.push(waiter);
		return {
			woken,
			cancel: () => {
				const i = this.#waiters.indexOf(waiter);
				if (i >= 0) this.#waiters.splice(i, 1);
				wake();
			}
		};
	}

	/** Shutdown: hand out nothing more and release every sleeping long-poll. */
	drain() {
		this.#draining = true;
		for (const w of this.#waiters.splice(0)) w.wake();
	}

	close() {
		this.drain();
		this.#unsubscribe();
	}
}

/** Long-poll: a claim as soon as one is possible, or null after `timeoutMs`. */
export async function longPollClaim(
	broker: Broker,
	request: Claimant,
	options: { timeoutMs?: number; signal?: AbortSignal } = {}
): Promise<Claim | null> {
	const deadline = Date.now() + (options.timeoutMs ?? CLAIM_LONG_POLL_MS);
	const { dispatcher } = broker;
	let island = request;
	/** Woken by a queued job: one is likely there, so the cheap check first would be a statement more. */
	let woken = false;
	for (;;) {
		if (dispatcher.draining || options.signal?.aborted) return null;
		// Registered before the claim query runs (with what was known of the Island then), so a
		// job queued meanwhile can't be missed.
		const ticket = dispatcher.register(island);
		let claim: Claim | null;
		try {
			({ claim, claimant: island } = await claimOnce(broker, island, { precheck: !woken }));
		} catch (err) {
			ticket.cancel();
			throw err;
		}
		if (claim) {
			ticket.cancel();
			if (options.signal?.aborted) {
				await releaseClaim(broker, claim.job.id, hashLease(claim.lease.token));
				return null;
			}
			return claim;
		}
		const remaining = deadline - Date.now();
		if (remaining <= 0) {
			ticket.cancel();
			return null;
		}
		let timer: ReturnType<typeof setTimeout> | undefined;
		const onAbort = () => ticket.cancel();
		options.signal?.addEventListener('abort', onAbort, { once: true });
		woken = await Promise.race([ticket.woken.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), Math.min(remaining, CLAIM_FALLBACK_POLL_MS))))]);
		clearTimeout(timer);
		options.signal?.removeEventListener('abort', onAbort);
		ticket.cancel();
	}
}

/**
 * A claim request is a sign of life: the Island is online. An Island that claims again right
 * after its result (which recorded the same) is not written again: one statement less per job,
 * while the offline sweep still sees a sign of life far within its timeout.
 */
export async function touchIsland(broker: Broker, island: Pick<typeof islands.$inferSelect, 'id' | 'online' | 'lastHeartbeatAt'>) {
	const fresh = Math.min(5_000, ISLAND_OFFLINE_AFTER_MS / 4);
	if (island.online && island.lastHeartbeatAt && Date.now() - island.lastHeartbeatAt.getTime() < fresh) return;
	await broker.db.update(islands).set({ lastHeartbeatAt: sql`now()`, online: true }).where(eq(islands.id, island.id));
}
