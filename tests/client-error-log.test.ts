import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rateLimitedLog } from '../server/client-errors.js';

describe('the HTTP wrapper\'s client-error log', () => {
	beforeEach(() => vi.useFakeTimers());
	afterEach(() => vi.useRealTimers());

	it('writes at most `max` lines a window, then one count by code when the window ends', () => {
		const lines: string[] = [];
		const log = rateLimitedLog({ max: 3, windowMs: 60_000, write: (l) => lines.push(l) });
		for (let i = 0; i < 5; i++) log('ECONNRESET', `reset ${i}`);
		log('HPE_INVALID_METHOD', 'bad method');
		expect(lines).toEqual(['reset 0', 'reset 1', 'reset 2']);
		vi.advanceTimersByTime(60_000);
		expect(lines.slice(3)).toEqual(['[http] 3 more client errors in 60 s, not logged one by one: ECONNRESET ×2, HPE_INVALID_METHOD ×1']);
		// A new window writes lines again, and a quiet one writes nothing.
		log('ECONNRESET', 'reset 5');
		vi.advanceTimersByTime(120_000);
		expect(lines.slice(4)).toEqual(['reset 5']);
	});
});
