// The identity cache: a cold burst reads the database once, and a change of rights during
// that read is never papered over by it.
import { describe, expect, it } from 'vitest';
import { cachedIdentity, forgetUser } from './identity-cache';

function slowLoad(userId: string) {
	let calls = 0;
	let release = () => {};
	const load = () => {
		calls++;
		return new Promise<{ user: { id: string } }>((resolve) => (release = () => resolve({ user: { id: userId } })));
	};
	return { load, calls: () => calls, release: () => release() };
}

describe('cachedIdentity', () => {
	it('loads once for a burst of the same key, then serves it from memory', async () => {
		const db = slowLoad('u-burst');
		const burst = Array.from({ length: 200 }, () => cachedIdentity('key:burst', db.load));
		db.release();
		const answers = await Promise.all(burst);
		expect(db.calls()).toBe(1);
		expect(answers.every((a) => a?.user.id === 'u-burst')).toBe(true);
		expect((await cachedIdentity('key:burst', db.load))?.user.id).toBe('u-burst');
		expect(db.calls()).toBe(1);
	});

	it('does not keep, nor share with later requests, a load that a change of rights overtook', async () => {
		const before = slowLoad('u-revoked');
		const first = cachedIdentity('key:revoked', before.load);
		forgetUser('u-revoked');
		// A request after the change starts its own read instead of joining the old one.
		const after = slowLoad('u-revoked');
		const second = cachedIdentity('key:revoked', after.load);
		expect(after.calls()).toBe(1);
		before.release();
		after.release();
		await Promise.all([first, second]);
		const third = slowLoad('u-revoked');
		const answer = cachedIdentity('key:revoked', third.load);
		// The second read (after the change) was kept; the first one was not.
		expect(third.calls()).toBe(0);
		expect((await answer)?.user.id).toBe('u-revoked');
	});
});
