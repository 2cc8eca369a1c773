// A finished picture's verification (docs/trust.md) in a few words for /image. Most results are
// never re-checked ('unchecked'): they get no note, so the page stays quiet about it.
import type { JobVerification } from '$lib/api/jobs';

export interface VerificationNote {
	text: string;
	tone: 'ok' | 'pending' | 'warn';
}

const NOTES: Record<JobVerification, VerificationNote | null> = {
	unchecked: null,
	checking: { text: 'Being checked by a second Island…', tone: 'pending' },
	confirmed: { text: 'Checked by a second Island ✓', tone: 'ok' },
	disputed: { text: 'Being checked: a second Island drew it differently, a third one decides…', tone: 'pending' },
	redoing: { text: 'Being redrawn: the first Island’s picture was wrong', tone: 'warn' },
	replaced: { text: 'Redrawn: the first Island’s picture was wrong', tone: 'warn' }
};

export function verificationNote(v: JobVerification | undefined): VerificationNote | null {
	return v ? NOTES[v] : null;
}

/** A verdict may still come (and, with it, another picture). */
export function verificationPending(v: JobVerification | undefined): boolean {
	return v === 'checking' || v === 'disputed' || v === 'redoing';
}
