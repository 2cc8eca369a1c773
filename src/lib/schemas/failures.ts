import { z } from './zod';

/**
 * Why a job ended without an image, as a machine code stored beside the human
 * `failure_reason` (jobs.failure_code). Declared once here, client-safe, so the broker that
 * writes a code and the /image page that words it share one closed set: the page maps codes
 * to words and never reads the reason text back.
 *
 * - island_error: the Island reported a failure (`failure_reason` holds its own words).
 * - island_unresponsive: the Island's lease expired (tab closed, crash, lost network).
 * - invalid_image: the Island uploaded a PNG the broker refused (`failure_reason` says why).
 * - cancelled: the requester cancelled the job.
 *
 * The first three fail a job only once it has used all its attempts; the code names the
 * last attempt's cause, and the job's `attempts` says how many were made.
 */
export const JOB_FAILURE_CODES = ['island_error', 'island_unresponsive', 'invalid_image', 'cancelled'] as const;
export type JobFailureCode = (typeof JOB_FAILURE_CODES)[number];

export const JobFailureCode = z.enum(JOB_FAILURE_CODES);
