// What went wrong, in words a requester acts on: a refused submit (every refusal comes
// before the hold, so nothing was charged) or a job the Islands could not finish.
import type { ApiErrorBody } from '$lib/schemas/errors';
import type { JobFailureCode } from '$lib/schemas/failures';
import type { RecordedParams } from '$lib/api/jobs';

/** Why a request or a job did not give an image, in words a requester acts on. */
export interface Failure {
	code: string;
	message: string;
	/** Credits given back: the job's hold (failed/cancelled jobs); 0 when nothing was charged. */
	refunded: number;
	/** The params to resubmit with "Try again". */
	params: Record<string, unknown>;
	/** A refused request's number of images, resubmitted with it. */
	count?: number;
	/** Field messages from a 422 invalid_params. */
	issues?: { path: (string | number)[]; message: string }[];
	retryAfterSeconds?: number;
}

/** Recorded params back into a request: drops nulls, which the strict schema refuses. */
export function requestParams(p: RecordedParams | Record<string, unknown>): Record<string, unknown> {
	return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== null && v !== undefined && v !== ''));
}

/** What the page knows of a job that ended without an image. */
export interface JobFailure {
	failureCode: JobFailureCode | null;
	/** The broker's detail in words: the Island's own reason, the PNG check's finding. */
	reason: string | null;
	attempts: number;
}

/** A failed job in plain words, from its code; the Island's own reason is quoted as it is. */
export function describeJobFailure({ failureCode, reason, attempts }: JobFailure): string {
	const tries = attempts > 1 ? ` It was tried ${attempts} times.` : '';
	// Only punctuation is trimmed, so the sentence doesn't end "..": the words stay the Island's.
	const trimmed = reason?.trim() ?? '';
	const detail = trimmed.endsWith('.') ? trimmed.slice(0, -1) : trimmed;
	switch (failureCode) {
		case 'island_error':
			return `The Islands could not make this image${detail ? ` (${detail})` : ''}.${tries}`;
		case 'island_unresponsive':
			return `Timed out on the Islands: the Islands working on it stopped responding.${tries}`;
		case 'invalid_image':
			return `The Islands sent back a broken image.${tries}`;
		case 'cancelled':
			return 'You cancelled this image.';
		case null:
			// A job failed before codes were recorded: its reason is all there is.
			return detail ? `${detail}.` : 'The image could not be made.';
	}
}

/** A refused submit as a Failure (nothing was held: every refusal comes before the hold). */
export async function requestFailure(res: Response, params: Record<string, unknown>): Promise<Failure> {
	// Read by hand, not with the zod schema: zod stays out of this page's first load.
	const body = (await res.json().catch(() => null)) as Partial<ApiErrorBody> | null;
	const error = body && typeof body.error?.code === 'string' ? body.error : null;
	const code = error ? error.code : `http_${res.status}`;
	const serverMessage = error && typeof error.message === 'string' ? error.message : '';
	const base = { code, refunded: 0, params };
	switch (code) {
		case 'kyc_required':
			return { ...base, message: 'Verify your identity before generating images: it is required for content safety, and there is no free tier.' };
		case 'insufficient_credits':
			return { ...base, message: `${serverMessage || 'Your balance does not cover this image.'} Nothing was charged.` };
		case 'too_many_jobs':
			// The server counts what is in flight now; its sentence says how many, and the limit.
			return { ...base, message: `${serverMessage} Nothing was charged.` };
		case 'prompt_rejected':
			return { ...base, message: serverMessage };
		case 'rate_limited': {
			const retry = Number(res.headers.get('retry-after'));
			const seconds = Number.isFinite(retry) && retry > 0 ? retry : null;
			return {
				...base,
				retryAfterSeconds: seconds ?? undefined,
				message: `You're sending requests too fast. Wait ${seconds ? `${seconds} seconds` : 'a minute'}, then try again. Nothing was charged.`
			};
		}
		case 'invalid_params':
			return { ...base, message: 'Some settings are not valid; see the messages beside the fields.', issues: Array.isArray(error?.issues) ? error.issues : undefined };
		case 'unauthenticated':
			return { ...base, message: 'Your session ended. Log in again to generate images.' };
		default:
			return { ...base, message: res.status >= 500 ? 'Something went wrong on our side. Nothing was charged; try again.' : serverMessage || `The request failed (${res.status}).` };
	}
}
