import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { drivers, openTestDatabase, type TestDatabase } from '../../../../tests/helpers/db';
import { images, jobs, users } from './schema';
import { MAX_PREPARED } from './prepared';
import { createUser } from '../auth/users';

const named = async (t: TestDatabase) => {
	// One connection, so that PostgreSQL's answer is about the connection that ran the rest.
	return t.db.transaction(async (tx) => {
		const rows = (await tx.execute(sql`select name, statement from pg_prepared_statements where name like 'app_%'`)).rows as { name: string; statement: string }[];
		const [{ plan_cache_mode: mode }] = (await tx.execute(sql`show plan_cache_mode`)).rows as { plan_cache_mode: string }[];
		return { rows, mode };
	});
};

describe.each(drivers)('prepared statements on %s', (driver) => {
	let t: TestDatabase;
	beforeAll(async () => {
		// One connection on PostgreSQL: pg_prepared_statements is per connection.
		t = await openTestDatabase(driver, 1);
	});
	afterAll(() => t.dispose());

	it('names a statement the second time it is sent, and lets it run a generic plan', async () => {
		const user = (await createUser(t.db, `${crypto.randomUUID()}@example.com`, 'x'))!;
		const read = () => t.db.select({ email: users.email }).from(users).where(eq(users.id, user.id));
		const text = read().toSQL().sql;
		await read();
		expect((await named(t)).rows.map((r) => r.statement)).not.toContain(text);
		expect(await read()).toEqual([{ email: user.email }]);
		const after = await named(t);
		expect(after.rows.map((r) => r.statement)).toContain(text);
		// Generic plans allowed, whatever the server's default (generic-plans.test.ts).
		expect(after.mode).toBe('auto');
	});

	it('answers as the unprepared path does for every column type the app stores, nulls included', async () => {
		const user = (await createUser(t.db, `${crypto.randomUUID()}@example.com`, 'x'))!;
		const jobId = crypto.randomUUID();
		await t.db.insert(jobs).values({ id: jobId, userId: user.id, params: { prompt: 'a "quoted" prompt', model: 'm', width: 256, height: 256, steps: 4, seed: 2 ** 40, guidance: 0 }, model: 'm', pixels: 65536, cost: 3_000_000_007, tier: 'standard', status: 'queued', leaseTtlMs: 60_000 });
		const bytes = new Uint8Array([0, 1, 2, 250, 255]);
		await t.db.insert(images).values({ id: crypto.randomUUID(), userId: user.id, jobId, width: 256, height: 256, bytes: Buffer.from(bytes) });
		const readJob = () => t.db.select().from(jobs).where(eq(jobs.id, jobId));
		const readImage = () => t.db.select({ bytes: images.bytes, withdrawnAt: images.withdrawnAt, createdAt: images.createdAt }).from(images).where(eq(images.jobId, jobId));
		const first = { job: await readJob(), image: await readImage() };
		for (let i = 0; i < 3; i++) expect({ job: await readJob(), image: await readImage() }).toEqual(first);
		expect(first.job[0].cost).toBe(3_000_000_007);
		expect(first.job[0].params).toEqual({ prompt: 'a "quoted" prompt', model: 'm', width: 256, height: 256, steps: 4, seed: 2 ** 40, guidance: 0 });
		expect(first.job[0].islandId).toBeNull();
		expect(first.job[0].createdAt).toBeInstanceOf(Date);
		expect(new Uint8Array(first.image[0].bytes)).toEqual(bytes);
		expect((await named(t)).rows.length).toBeGreaterThanOrEqual(2);
	});

	// On PGlite a prepared statement's answer is read from its bytes (prepared-pglite.ts
	// readAnswer), not by PGlite's parser: the same strings, however the bytes arrive.
	it('reads text, empty strings, nulls and an answer of many chunks as the unprepared path does', async () => {
		const big = 'é🙂x'.repeat(40_000);
		const read = () =>
			t.db.execute(sql`select g, ${'ünïcode ✓'}::text as word, '' as empty, null::text as nothing, case when g = 2 then ${big}::text end as big from generate_series(1, 3) g`);
		const first = (await read()).rows;
		expect(first[1]).toEqual({ g: 2, word: 'ünïcode ✓', empty: '', nothing: null, big });
		for (let i = 0; i < 3; i++) expect((await read()).rows).toEqual(first);
		expect((await named(t)).rows.some((r) => r.statement.includes('generate_series(1, 3)'))).toBe(true);
	});

	it('rejects a failing prepared statement with the database error, rolls its transaction back and goes on', async () => {
		const email = `${crypto.randomUUID()}@example.com`;
		const insert = (tx: Pick<TestDatabase['db'], 'insert'>) => tx.insert(users).values({ id: crypto.randomUUID(), email, passwordHash: 'x' });
		await insert(t.db);
		await expect(insert(t.db)).rejects.toMatchObject({ cause: { code: '23505' } });
		const before = (await t.db.select({ id: users.id }).from(users)).length;
		await expect(
			t.db.transaction(async (tx) => {
				await tx.insert(users).values({ id: crypto.randomUUID(), email: `${crypto.randomUUID()}@example.com`, passwordHash: 'x' });
				await insert(tx);
			})
		).rejects.toMatchObject({ cause: { code: '23505' } });
		expect((await t.db.select({ id: users.id }).from(users)).length).toBe(before);
		expect(await t.db.select({ email: users.email }).from(users).where(eq(users.email, email))).toEqual([{ email }]);
	});

	it('keeps concurrent transactions and single statements apart, as without it', async () => {
		const user = (await createUser(t.db, `${crypto.randomUUID()}@example.com`, 'x'))!;
		const bump = () => t.db.update(users).set({ passwordHash: sql`${users.passwordHash} || 'x'` }).where(eq(users.id, user.id));
		await Promise.all([
			...Array.from({ length: 20 }, () => bump()),
			...Array.from({ length: 20 }, () =>
				t.db.transaction(async (tx) => {
					await tx.update(users).set({ passwordHash: sql`${users.passwordHash} || 'y'` }).where(eq(users.id, user.id));
					await tx.select({ id: users.id }).from(users).where(eq(users.id, user.id));
				})
			)
		]);
		const [row] = await t.db.select({ hash: users.passwordHash }).from(users).where(eq(users.id, user.id));
		expect(row.hash.length).toBe(41);
	});

	it('prepares a statement again once a schema change made it stale (a rolling deploy migrating under a running instance)', async () => {
		await t.db.execute(sql`create table prep_stale (id int primary key, v int)`);
		await t.db.execute(sql`insert into prep_stale values (1, 7)`);
		const read = () => t.db.execute(sql`select * from prep_stale where id = ${1}`);
		const readInTx = () => t.db.transaction((tx) => tx.execute(sql`select * from prep_stale where id = ${1}`));
		for (let i = 0; i < 3; i++) await read(), await readInTx();
		expect((await named(t)).rows.map((r) => r.statement).filter((s) => s.includes('prep_stale'))).toHaveLength(1);
		// The result's type changes: "cached plan must not change result type" for the old statement.
		await t.db.execute(sql`alter table prep_stale alter column v type text`);
		// Outside a transaction it is sent again at once.
		expect((await read()).rows).toEqual([{ id: 1, v: '7' }]);
		// Inside one the error has aborted it; the next transaction prepares anew.
		const first = await readInTx().then((r) => r.rows, (err: { cause?: { code?: string } }) => err.cause?.code);
		expect([[{ id: 1, v: '7' }], '0A000']).toContainEqual(first);
		for (let i = 0; i < 3; i++) expect((await readInTx()).rows).toEqual([{ id: 1, v: '7' }]);
		// A widened column: the statement's parameter is still an int, and 3e9 doesn't fit one.
		const byId = (id: number) => t.db.execute(sql`select v from prep_stale where id = ${id}`);
		const byIdInTx = (id: number) => t.db.transaction((tx) => tx.execute(sql`select v from prep_stale where id = ${id}`));
		for (let i = 0; i < 3; i++) await byId(1), await byIdInTx(1);
		await t.db.execute(sql`alter table prep_stale alter column id type bigint`);
		await t.db.execute(sql`insert into prep_stale values (3000000000, 'big')`);
		expect((await byId(3_000_000_000)).rows).toEqual([{ v: 'big' }]);
		await byIdInTx(3_000_000_000).catch(() => null);
		expect((await byIdInTx(3_000_000_000)).rows).toEqual([{ v: 'big' }]);
	});

	it(`keeps at most ${MAX_PREPARED} named statements on a connection`, async () => {
		for (let i = 0; i < MAX_PREPARED + 20; i++) {
			const read = () => t.db.execute(sql`select ${sql.raw(String(i))} + 0 as n from users where id = ${'none'}`);
			await read();
			await read();
		}
		const { rows } = await named(t);
		expect(rows.length).toBeLessThanOrEqual(MAX_PREPARED);
		expect(rows.length).toBeGreaterThan(MAX_PREPARED / 2);
	});
});


describe.each(drivers.filter((d) => d === 'postgres'))('prepared statements on a pool of %s connections', (driver) => {
	it('recovers every query in flight on every connection when a schema change makes a statement stale', async () => {
		const t = await openTestDatabase(driver, 10);
		try {
			await t.db.execute(sql`create table prep_pool (id int primary key, v int)`);
			await t.db.execute(sql`insert into prep_pool values (1, 7)`);
			// Slow enough that ten at once take ten connections, each preparing the statement.
			const read = () => t.db.execute(sql`select id, v, pg_sleep(0.02)::text as slept from prep_pool where id = ${1}`);
			for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 10 }, read));
			const holders = (await t.db.execute(sql`select count(*)::int as n from pg_stat_activity where datname = current_database()`)).rows[0] as { n: number };
			expect(holders.n).toBeGreaterThanOrEqual(5);
			await t.db.execute(sql`alter table prep_pool alter column v type text`);
			const after = await Promise.allSettled(Array.from({ length: 10 }, read));
			expect(after.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason?.cause?.message))).toEqual([]);
			expect((after[0] as PromiseFulfilledResult<{ rows: unknown[] }>).value.rows).toEqual([{ id: 1, v: '7', slept: '' }]);
		} finally {
			await t.dispose();
		}
	});
});

describe('prepared statements on a closing PGlite', () => {
	it('refuse as PGlite does once close() has begun, instead of running on a database shutting down', async () => {
		const t = await openTestDatabase('pglite');
		const read = () => t.db.execute(sql`select count(*)::int as n from users where id <> ${'x'}`);
		await read(), await read();
		const closing = t.dispose();
		await expect(read()).rejects.toMatchObject({ cause: { message: expect.stringMatching(/PGlite is clos(ing|ed)/) } });
		await closing;
		await expect(read()).rejects.toMatchObject({ cause: { message: 'PGlite is closed' } });
	});
});
