// An Island's failures are not free: every attempt it gives up or drops is counted, an Island
// that gives up far more jobs than it finishes claims after the others (suspicious), and one
// that keeps doing it is quarantined. Honest Islands fail rarely (a closed tab, a crash);
// a saboteur that claims and fails to burn other people's attempts fails nearly always.
import { and, eq, ne, sql } from 'drizzle-orm';
import type { Queryable } from '../db';
import { islands } from '../db/schema';
import { trustConfig } from './config';
import { quarantineIsland, type Announcements } from './quarantine';

type Counters = Pick<typeof islands.$inferSelect, 'attemptsFailed' | 'jobsDone'>;

/** Gives up more than it finishes, past a few failures. */
export function isSuspicious(row: Counters): boolean {
	return row.attemptsFailed >= trustConfig().suspiciousAfterFailures && row.attemptsFailed > row.jobsDone;
}

/** Gives up nearly everything it takes, past many failures. */
function shouldQuarantine(row: Counters): boolean {
	return row.attemptsFailed >= trustConfig().quarantineAfterFailures && row.attemptsFailed > 4 * row.jobsDone;
}

/**
 * Counts one given-up attempt against each Island (once per job), quarantining the worst;
 * returns what the quarantines requeued and redrew, for the caller to announce after commit.
 */
export async function chargeFailures(tx: Queryable, islandIds: string[]): Promise<Announcements> {
	const out: Announcements = [];
	if (islandIds.length === 0) return out;
	const counts = new Map<string, number>();
	for (const id of islandIds) counts.set(id, (counts.get(id) ?? 0) + 1);
	for (const [id, n] of counts) {
		const [row] = await tx
			.update(islands)
			.set({ attemptsFailed: sql`${islands.attemptsFailed} + ${n}` })
			.where(and(eq(islands.id, id), ne(islands.trust, 'quarantined'), eq(islands.vouched, false)))
			.returning();
		if (row && shouldQuarantine(row)) {
			out.push(...(await quarantineIsland(tx, id, `it gave up ${row.attemptsFailed} jobs and finished ${row.jobsDone}`)));
		}
	}
	return out;
}

/** Islands an admin should look at: suspicious by failures or by speed, and not yet quarantined. */
export function suspiciousIslandsFilter() {
	const { suspiciousAfterFailures } = trustConfig();
	return and(
		ne(islands.trust, 'quarantined'),
		sql`((${islands.attemptsFailed} >= ${suspiciousAfterFailures} and ${islands.attemptsFailed} > ${islands.jobsDone}) or ${islands.speedFlags} > 0)`
	);
}
