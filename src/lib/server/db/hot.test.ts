import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { drivers, openTestDatabase, type TestDatabase } from '../../../../tests/helpers/db';
import { getTableColumns } from 'drizzle-orm';
import * as schema from './schema';
import { serverSecrets } from './schema';
import { hotSql, hotStatement, hotStatements, slot } from './hot';

// Built once per driver and shape, in this module: every database below shares them, as the
// app's databases (and the tests' many) share the app's.
let builds = 0;
const insertSecret = hotStatement((db) => {
	builds++;
	return db.insert(serverSecrets).values({ name: sql.placeholder('name'), value: sql.placeholder('value') });
});
const readSecret = hotStatement((db) => db.select({ value: serverSecrets.value }).from(serverSecrets).where(eq(serverSecrets.name, sql.placeholder('name'))));
const renameSecret = hotStatement((db) =>
	db
		.update(serverSecrets)
		.set({ value: slot<string>('value') })
		.where(eq(serverSecrets.name, sql.placeholder('name')))
		.returning({ value: serverSecrets.value })
);
/** One statement per shape: how many names it reads. */
const readSecrets = hotStatements((db, n: number) =>
	db
		.select({ name: serverSecrets.name })
		.from(serverSecrets)
		.where(sql`${serverSecrets.name} in (${sql.join(Array.from({ length: n }, (_, i) => sql.placeholder(`n${i}`)), sql`, `)})`)
		.orderBy(serverSecrets.name)
);
const sum = hotSql<number, Record<string, unknown>, { rows: { total: number }[] }>(
	(n) => sql`select (${sql.join(Array.from({ length: n }, (_, i) => sql`${sql.placeholder(`v${i}`)}::int`), sql` + `)}) as total`
);

describe.each(drivers)('hot statements on %s', (driver) => {
	let t: TestDatabase;
	const logged: string[] = [];
	beforeAll(async () => {
		t = await openTestDatabase(driver, undefined, { logQuery: (query) => logged.push(query) });
	});
	afterAll(() => t.dispose());

	it('are built once, and take new values every time', async () => {
		const before = builds;
		const names = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
		for (const [i, name] of names.entries()) await insertSecret(t.db, { name, value: `v${i}` });
		for (const [i, name] of names.entries()) expect(await readSecret(t.db, { name })).toEqual([{ value: `v${i}` }]);
		expect(await renameSecret(t.db, { name: names[1], value: 'renamed' })).toEqual([{ value: 'renamed' }]);
		expect(await readSecret(t.db, { name: names[1] })).toEqual([{ value: 'renamed' }]);
		// At most once per driver: the first database of this driver in this process built it.
		expect(builds - before).toBeLessThanOrEqual(1);
		await insertSecret(t.db, { name: crypto.randomUUID(), value: 'x' });
		expect(builds - before).toBeLessThanOrEqual(1);
	});

	it('run inside the transaction they are given: they see its writes, and its rollback undoes theirs', async () => {
		const name = crypto.randomUUID();
		await expect(
			t.db.transaction(async (tx) => {
				await insertSecret(tx, { name, value: 'inside' });
				expect(await readSecret(tx, { name })).toEqual([{ value: 'inside' }]);
				throw new Error('roll back');
			})
		).rejects.toThrow('roll back');
		expect(await readSecret(t.db, { name })).toEqual([]);
		await t.db.transaction((tx) => insertSecret(tx, { name, value: 'kept' }));
		expect(await readSecret(t.db, { name })).toEqual([{ value: 'kept' }]);
	});

	it('keep one statement per shape', async () => {
		const names = Array.from({ length: 3 }, () => crypto.randomUUID()).sort();
		for (const name of names) await insertSecret(t.db, { name, value: 'x' });
		expect(await readSecrets(t.db, 1, { n0: names[0] })).toEqual([{ name: names[0] }]);
		expect(await readSecrets(t.db, 3, { n0: names[2], n1: names[0], n2: names[1] })).toEqual(names.map((name) => ({ name })));
		expect(await readSecrets(t.db, 2, { n0: names[1], n1: names[2] })).toEqual([{ name: names[1] }, { name: names[2] }]);
		expect((await sum(t.db, 2, { v0: 2, v1: 3 })).rows).toEqual([{ total: 5 }]);
		expect((await sum(t.db, 3, { v0: 2, v1: 3, v2: 4 })).rows).toEqual([{ total: 9 }]);
	});

	it("are logged by the database they run on, as drizzle's own statements are", async () => {
		const name = crypto.randomUUID();
		logged.length = 0;
		await readSecret(t.db, { name });
		await t.db.transaction((tx) => readSecret(tx, { name }));
		const text = t.db.select({ value: serverSecrets.value }).from(serverSecrets).where(eq(serverSecrets.name, name)).toSQL().sql;
		// node-postgres's transactions log their BEGIN and COMMIT too.
		expect(logged.filter((query) => !/^(begin|commit)$/i.test(query))).toEqual([text, text]);
	});
});

describe.runIf(drivers.length > 1)('hot statements on both drivers in one process', () => {
	it('build a statement for each driver: one built for PGlite never runs on PostgreSQL', async () => {
		const [a, b] = await Promise.all(drivers.map((driver) => openTestDatabase(driver)));
		try {
			for (const t of [a, b, a, b]) {
				const name = crypto.randomUUID();
				await insertSecret(t.db, { name, value: t.driver });
				expect(await readSecret(t.db, { name })).toEqual([{ value: t.driver }]);
			}
		} finally {
			await Promise.all([a.dispose(), b.dispose()]);
		}
	});
});

describe('the tables hot statements write', () => {
	it("have no column whose value drizzle computes while building ($defaultFn, $onUpdate): it would be built in for good", () => {
		const tables = Object.entries(schema).filter(([, value]) => value && typeof value === 'object' && Symbol.for('drizzle:IsDrizzleTable') in value);
		expect(tables.map(([name]) => name)).toEqual(expect.arrayContaining(['jobs', 'images', 'islands', 'users', 'ledgerAccounts', 'ledgerTransactions', 'ledgerEntries']));
		const computed = tables.flatMap(([table, value]) =>
			Object.entries(getTableColumns(value as never)).flatMap(([name, column]) => {
				const c = column as { defaultFn?: unknown; onUpdateFn?: unknown };
				return c.defaultFn || c.onUpdateFn ? [`${table}.${name}`] : [];
			})
		);
		expect(computed).toEqual([]);
	});
});
