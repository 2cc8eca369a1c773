import { describe, expect, it } from 'vitest';
import { mayWake, type Claimant } from './eligibility';

const island = (over: Partial<Claimant> = {}): Claimant => ({ id: 'i1', ownerId: 'o1', models: ['demo'], maxPixels: 512 * 512, probation: false, vouched: false, ...over });
const queued = (over = {}) => ({ type: 'queued' as const, id: 'j', model: 'demo', pixels: 256 * 256, ...over });

describe('which sleeping Island a queued job wakes', () => {
	it('wakes an Island on probation only for its own canary, or when a canary answer is ready', () => {
		const p = island({ probation: true });
		expect(mayWake(p, queued())).toBe(false);
		expect(mayWake(p, queued({ island: 'i2' }))).toBe(false);
		expect(mayWake(p, queued({ island: 'i1' }))).toBe(true);
		expect(mayWake(p, queued({ forProbation: true }))).toBe(true);
	});
	it('wakes a trusted Island for requesters’ jobs, never another’s canary, a reference run (unless vouched) or a job its owner is barred from', () => {
		expect(mayWake(island(), queued())).toBe(true);
		expect(mayWake(island(), queued({ island: 'i1' }))).toBe(false);
		expect(mayWake(island(), queued({ forProbation: true }))).toBe(false);
		expect(mayWake(island(), queued({ vouchedOnly: true }))).toBe(false);
		expect(mayWake(island({ vouched: true }), queued({ vouchedOnly: true }))).toBe(true);
		expect(mayWake(island(), queued({ barred: ['o1'] }))).toBe(false);
		expect(mayWake(island(), queued({ model: 'sd-turbo' }))).toBe(false);
		expect(mayWake(island({ maxPixels: 100 }), queued())).toBe(false);
	});
});
