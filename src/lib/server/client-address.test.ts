import { describe, expect, it } from 'vitest';
import type { RequestEvent } from '@sveltejs/kit';
import { ApiError, clientAddress } from './http';

const from = (address: string | Error) =>
	({
		getClientAddress: () => {
			if (address instanceof Error) throw address;
			return address;
		}
	}) as unknown as RequestEvent;

describe('clientAddress', () => {
	it('budgets IPv4 as is, IPv4-mapped IPv6 as IPv4, and IPv6 by its /64', () => {
		expect(clientAddress(from('203.0.113.7'))).toBe('203.0.113.7');
		expect(clientAddress(from('::ffff:203.0.113.7'))).toBe('203.0.113.7');
		expect(clientAddress(from('2001:db8:aa:bb:1:2:3:4'))).toBe('2001:db8:aa:bb::/64');
		// Every address of one /64 is one budget, however it is written.
		expect(clientAddress(from('2001:0db8:00aa:00bb::9'))).toBe('2001:db8:aa:bb::/64');
		expect(clientAddress(from('2001:db8::1'))).toBe('2001:db8:0:0::/64');
		expect(clientAddress(from('::1'))).toBe('0:0:0:0::/64');
	});

	it('answers 400 when the proxy header is missing (adapter-node throws)', () => {
		expect(() => clientAddress(from(new Error('Address header was specified with ADDRESS_HEADER=x-forwarded-for but is absent from request')))).toThrow(ApiError);
	});
});
