// Which queued jobs an Island may take, said once for the claim query (SQL) and once for the
// wake-up of a sleeping long-poll (the same rule over a job's queued event).
import { and, eq, inArray, lte, not, sql, type SQL } from 'drizzle-orm';
import { jobs } from '../db/schema';
import type { BrokerEvent } from '../events';
import { eqLiteral } from '../db/literal';

export interface Claimant {
	id: string;
	ownerId: string;
	models: string[];
	maxPixels: number;
	/** On probation: canaries made for it, nothing else. */
	probation: boolean;
	/** The operator's own or admin-vouched: also runs canaries' reference runs. */
	vouched: boolean;
}

/**
 * What the text of an Island's rule depends on: its standing and how many models it runs. The
 * claim's statements are built once per shape (db/hot.ts) and take the rest as values
 * (claimantValues).
 */
export type ClaimShape = `${'probation' | 'vouched' | 'trusted'}/${number}`;
export const claimShape = (island: Claimant): ClaimShape => `${island.probation ? 'probation' : island.vouched ? 'vouched' : 'trusted'}/${island.models.length}`;

/** The values of claimableBy's placeholders for this Island. */
export function claimantValues(island: Claimant): Record<string, unknown> {
	const values: Record<string, unknown> = { islandId: island.id, ownerId: island.ownerId, maxPixels: island.maxPixels };
	island.models.forEach((model, i) => (values[`model${i}`] = model));
	return values;
}

/**
 * A probation Island gets only its own canaries; a trusted one requesters' jobs, checks and
 * reruns, never one its owner failed or is barred from (a check of its own result), and a
 * vouched one also reference runs. Placeholders for the Island's values (claimantValues).
 */
export function claimableBy(shape: ClaimShape): SQL {
	const [standing, models] = shape.split('/');
	const p = sql.placeholder;
	const modelSlots = Array.from({ length: Number(models) }, (_, i) => p(`model${i}`));
	const fits = and(eqLiteral(jobs.status, 'queued'), inArray(jobs.model, modelSlots), lte(jobs.pixels, p('maxPixels')))!;
	if (standing === 'probation') return and(fits, eq(jobs.kind, 'canary'), eq(jobs.targetIslandId, p('islandId')))!;
	const kinds = standing === 'vouched' ? (['user', 'check', 'rerun', 'reference'] as const) : (['user', 'check', 'rerun'] as const);
	return and(fits, inArray(jobs.kind, [...kinds]), not(sql`${p('ownerId')} = any(${jobs.failedOwners})`), not(sql`${p('ownerId')} = any(${jobs.barredOwners})`))!;
}

/** The same rule over a queued event: whether waking this Island can lead to a claim. */
export function mayWake(island: Claimant, event: Extract<BrokerEvent, { type: 'queued' }>): boolean {
	if (!island.models.includes(event.model) || island.maxPixels < event.pixels) return false;
	if (island.probation) return event.island === island.id || event.forProbation === true;
	if (event.forProbation) return false;
	if (event.island) return false;
	if (event.vouchedOnly && !island.vouched) return false;
	return !event.barred?.includes(island.ownerId);
}

type QueuedRow = Pick<typeof jobs.$inferSelect, 'id' | 'model' | 'pixels' | 'kind' | 'targetIslandId' | 'failedOwners' | 'barredOwners'>;

/** The wake-up for a job that is (again) in the queue. */
export function queuedEvent(row: QueuedRow): BrokerEvent {
	const barred = [...new Set([...row.failedOwners, ...row.barredOwners])];
	return {
		type: 'queued',
		id: row.id,
		model: row.model,
		pixels: row.pixels,
		...(row.kind === 'canary' && row.targetIslandId ? { island: row.targetIslandId } : {}),
		...(row.kind === 'reference' ? { vouchedOnly: true } : {}),
		...(barred.length ? { barred } : {})
	};
}
