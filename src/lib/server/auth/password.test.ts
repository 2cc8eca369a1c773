import { scryptSync, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, openTestDatabase, type TestDatabase } from '../../../../tests/helpers/db';
import { users } from '../db/schema';
import { createUser } from './users';
import { hashPassword, rehashIfWeak, verifyPassword } from './password';

/** A hash as the previous version stored it: scrypt N=2^15, r=8, p=1. */
function legacyScrypt(password: string) {
	const salt = randomBytes(16);
	const key = scryptSync(password.normalize('NFKC'), salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
	return `scrypt$${2 ** 15}$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

describe('password hashing', () => {
	it('hashes with Argon2id at OWASP settings, and verifies only the right password', async () => {
		const hash = await hashPassword('correct horse battery');
		expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
		expect(await verifyPassword('correct horse battery', hash)).toBe(true);
		expect(await verifyPassword('wrong horse battery', hash)).toBe(false);
		expect(await verifyPassword('correct horse battery', 'garbage')).toBe(false);
	});
});

describe.each(drivers)('legacy scrypt hashes on %s', (driver) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(driver);
	});
	afterAll(() => t.dispose());

	it('still log in, and are replaced by Argon2id then', async () => {
		const stored = legacyScrypt('old password 1');
		const user = (await createUser(t.db, `${crypto.randomUUID()}@example.com`, stored))!;
		expect(await verifyPassword('old password 1', stored)).toBe(true);
		expect(await verifyPassword('old password 2', stored)).toBe(false);
		await rehashIfWeak(t.db, user.id, 'old password 1', stored);
		const [row] = await t.db.select().from(users).where(eq(users.id, user.id));
		expect(row.passwordHash).toMatch(/^\$argon2id\$/);
		expect(await verifyPassword('old password 1', row.passwordHash)).toBe(true);
	});
});
