import { describe, expect, it } from 'vitest';
import { PgDialect } from 'drizzle-orm/pg-core';
import { eqLiteral, inLiterals } from './literal';
import { jobs } from './schema';

const dialect = new PgDialect();

describe('status literals', () => {
	it('writes a column’s own values into the statement, not as parameters', () => {
		expect(dialect.sqlToQuery(eqLiteral(jobs.status, 'queued'))).toEqual({ sql: `"jobs"."status" = 'queued'`, params: [] });
		expect(dialect.sqlToQuery(inLiterals(jobs.status, ['queued', 'running']))).toEqual({ sql: `"jobs"."status" in ('queued', 'running')`, params: [] });
	});

	it('refuses anything that is not one of the column’s values', () => {
		expect(() => eqLiteral(jobs.status, `queued' or true --` as never)).toThrow(/not one of status's values/);
		expect(() => inLiterals(jobs.escrow, ['held', 'x' as never])).toThrow(/not one of escrow's values/);
	});
});
