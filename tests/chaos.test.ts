// The chaos run, small: 100 jobs through a real broker and six real Island processes, one
// SIGKILLed mid-job, the broker restarted with SIGTERM and then SIGKILL. Nothing may be lost,
// charged twice or left unbalanced. `npm run chaos` is the 1,000-job version. Then a liar
// among trusted Islands, with every young Island's job checked so it is caught for sure.
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

	it('catches a liar that passed probation, leaves no wrong picture and flags no honest Island', { timeout: 10 * 60_000 }, async () => {
		// Island 0 the vouched reference, 1 the liar (every job after its 3 canaries), 2–4 honest.
		const report = await runChaos({
			driver,
			jobs: 40,
			islands: 5,
			requesters: 2,
			stepMs: 5,
			restarts: ['SIGKILL'],
			liars: 1,
			lieRate: 1,
			trustEnv: { TRUST_NEW_ISLAND_SPOT_CHECK_RATE: '1' }
		});
		const trust = report.trust!;
		expect(report.jobs).toMatchObject({ submitted: 40, lost: 0 });
		expect(trust.liars).toHaveLength(1);
		expect(trust.liars[0].caught).toBe(true);
		expect(trust.pendingAtEnd).toBe(0);
		expect(trust.wrongDetail).toEqual([]);
		expect(trust.falseFlags).toMatchObject({ honestQuarantined: 0, honestVsHonest: 0 });
		expect(report.balances).toMatchObject({ requestersMatch: true, ownersMatch: true, held: 0 });
		expect(report.ledger).toMatchObject({ ok: true, sum: 0, problems: [] });
		expect(report.ok).toBe(true);
	});
});
