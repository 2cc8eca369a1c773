// The chaos run, small: 100 jobs through a real broker and six real Island processes, one
// SIGKILLed mid-job, the broker restarted with SIGTERM and then SIGKILL. Nothing may be lost,
// charged twice or left unbalanced. `npm run chaos` is the 1,000-job version.
import { describe, expect, it } from 'vitest';
import { drivers } from './helpers/db';
import { runChaos } from '../harness/chaos';

describe.each(drivers)('chaos on %s', (driver) => {
	it('ends every job once, keeps the ledger balanced and every image valid', { timeout: 10 * 60_000 }, async () => {
		const report = await runChaos({ driver, jobs: 100, islands: 6, requesters: 3, stepMs: 5, restarts: ['SIGTERM', 'SIGKILL'] });
		expect(report.jobs).toMatchObject({ submitted: 100, refusedAtSubmit: 0, cancelled: 0, lost: 0 });
		expect(report.jobs.completed + report.jobs.failed).toBe(100);
		expect(report.islands.killed).toBe(1);
		expect(report.restarts).toHaveLength(2);
		expect(report.charges).toEqual({ maxSettlementsPerJob: 1, maxReleasesPerJob: 1, completedWithoutSettlement: 0, failedWithoutRefund: 0 });
		expect(report.ledger).toMatchObject({ ok: true, sum: 0, problems: [] });
		expect(report.balances).toMatchObject({ requestersMatch: true, ownersMatch: true, held: 0 });
		expect(report.balances.spent).toBe(report.balances.expectedSpent);
		expect(report.pngs.valid).toBe(report.pngs.checked);
		expect(report.ok).toBe(true);
	});
});
