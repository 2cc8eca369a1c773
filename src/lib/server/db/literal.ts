import { sql, type Column, type SQL } from 'drizzle-orm';

// `status = 'queued'`, with the value in the statement's text instead of sent as a parameter.
// A prepared statement may run a plan made once for every value of its parameters (a generic
// plan, prepared.ts), and such a plan can use a partial index (`jobs_queue_idx … where status =
// 'queued'`) only if the statement itself says which value: `status = $1` proves nothing about
// it. So the columns with partial indexes on their values (a job's status and escrow) are
// compared to literals. Only a column's own enum values can be written so, never a request's.

type EnumColumn = Column & { enumValues?: readonly string[] };

function literal(column: EnumColumn, value: string): SQL {
	if (!column.enumValues?.includes(value)) throw new Error(`${value} is not one of ${column.name}'s values`);
	return sql.raw(`'${value}'`);
}

/** `column = 'value'`, the value written into the statement (for a generic plan's partial indexes). */
export function eqLiteral<C extends EnumColumn>(column: C, value: NonNullable<C['_']['data']> & string): SQL {
	return sql`${column} = ${literal(column, value)}`;
}

/** `column in ('a', 'b')`, the values written into the statement. */
export function inLiterals<C extends EnumColumn>(column: C, values: readonly (NonNullable<C['_']['data']> & string)[]): SQL {
	if (values.length === 0) throw new Error(`no values to compare ${column.name} with`);
	return sql`${column} in (${sql.join(
		values.map((v) => literal(column, v)),
		sql`, `
	)})`;
}
