import { describe, expect, it } from 'vitest';
import { protocol } from '@electric-sql/pglite';
import { bindExecuteSync, readAnswer } from './pglite-wire';

// The hand-written Bind/Execute/Sync must be byte for byte what PGlite's serializer writes.
describe("PGlite's wire, by hand", () => {
	const pglites = (name: string, values: (string | null)[]) =>
		Buffer.concat([protocol.serialize.bind({ statement: name, values: values as string[] }), protocol.serialize.execute({}), protocol.serialize.sync()]);

	it.each([
		['app_1', []],
		['app_12', ['a', null, 'é🙂', '', null]],
		['app_345', ['x'.repeat(70_000), '-9223372036854775808', '{"a":[1,"ü"]}']]
	] as [string, (string | null)[]][])('writes Bind/Execute/Sync for %s as PGlite does', (name, values) => {
		expect(Buffer.from(bindExecuteSync(name, values)).equals(pglites(name, values))).toBe(true);
	});

	/** A backend message: its type, its length (itself included), its body. */
	const message = (type: string, body: Buffer) => {
		const head = Buffer.alloc(5);
		head.write(type, 0);
		head.writeInt32BE(4 + body.length, 1);
		return Buffer.concat([head, body]);
	};
	const field = (v: string | null) => {
		const length = Buffer.alloc(4);
		length.writeInt32BE(v === null ? -1 : Buffer.byteLength(v));
		return v === null ? length : Buffer.concat([length, Buffer.from(v)]);
	};

	it('reads rows, nulls and the command tag; leaves an error to PGlite', () => {
		const row = (...vs: (string | null)[]) => message('D', Buffer.concat([Buffer.from([0, vs.length]), ...vs.map(field)]));
		const answer = Buffer.concat([message('2', Buffer.alloc(0)), row('1', null, 'é'), row('', 'x', null), message('C', Buffer.from('SELECT 2\0')), message('Z', Buffer.from('I'))]);
		expect(readAnswer(answer)).toEqual({ rows: [['1', null, 'é'], ['', 'x', null]], tag: 'SELECT 2' });
		expect(readAnswer(Buffer.concat([message('E', Buffer.from('SERROR\0\0')), message('Z', Buffer.from('I'))]))).toBeNull();
	});
});
