// Variations (img2img): a job whose input is one of the requester's own pictures. Checked at
// submit (whose picture, still shown, the same size); handed to the Island through its lease.
import { and, eq } from 'drizzle-orm';
import type { GenerationParams } from '$lib/schemas/generation';
import type { Queryable } from '../db';
import { images, jobs, type StoredParams } from '../db/schema';
import { ApiError } from '../http';
import type { Broker } from './context';
import { leaseProblem, leaseIs } from './island-calls';
import { hashLease } from './lease';

/**
 * A variation starts only from a picture this service made for the same requester and still
 * shows them: another user's picture is indistinguishable from a missing one (404), a
 * withdrawn one (its Island was caught lying) is refused (410). Runs before any credit moves.
 */
export async function assertVariationInput(tx: Queryable, userId: string, params: GenerationParams): Promise<void> {
	const v = params.variation;
	if (!v) return;
	const [image] = await tx
		.select({ width: images.width, height: images.height, withdrawnAt: images.withdrawnAt })
		.from(images)
		.where(and(eq(images.id, v.imageId), eq(images.userId, userId)));
	if (!image) {
		throw new ApiError(404, 'image_not_found', 'No such picture of yours: a variation starts from a picture this service made for you (its id is in the job\'s imageUrl).');
	}
	if (image.withdrawnAt) {
		throw new ApiError(410, 'image_withdrawn', 'That picture was withdrawn: the Island that drew it was caught returning wrong pictures. Vary the redrawn one instead.');
	}
	if (image.width !== params.width || image.height !== params.height) {
		const message = `A variation keeps its picture's size: ${image.width}×${image.height}.`;
		throw new ApiError(422, 'invalid_params', `width: ${message}`, [{ path: ['width'], message }]);
	}
}

/**
 * What an Island is told of a job: a variation's strength, not which of the requester's
 * pictures it starts from (the picture itself comes through the lease, inputPng).
 */
export function paramsForIsland(params: StoredParams) {
	const { variation, ...rest } = params;
	return variation ? { ...rest, variation: { strength: variation.strength } } : rest;
}

/**
 * The input picture of a variation, for the Island holding the job's live lease. A check or a
 * rerun (the platform's copy of the requester's job, docs/trust.md) carries the same params, so
 * it gets the very same bytes: served even if the picture was withdrawn since the job was
 * accepted, since what the job was asked to compute can't change under it.
 */
export async function inputPng(broker: Broker, islandId: string, jobId: string, lease: string): Promise<Uint8Array> {
	// Noted on the job: its result is accepted only from the lease that fetched the input.
	const [job] = await broker.db
		.update(jobs)
		.set({ inputLeaseHash: hashLease(lease) })
		.where(and(eq(jobs.id, jobId), leaseIs(islandId, lease)))
		.returning({ params: jobs.params });
	if (!job) throw await leaseProblem(broker, islandId, jobId, lease);
	const imageId = job.params.variation?.imageId;
	if (!imageId) throw new ApiError(404, 'no_input', 'This job is not a variation: it has no input picture.');
	const image = await broker.images.get(broker.db, imageId);
	// Deleted since (its owner's data deletion): the Island reports the failure, the job is refunded.
	if (!image) throw new ApiError(404, 'input_gone', 'The input picture of this job no longer exists.');
	return image.bytes;
}

/**
 * Why a variation's result can't be its answer: its Island never fetched the input picture
 * (an outdated Island that ignores `variation` would draw a text-to-image picture, and two
 * such Islands would even agree on it in a spot check). Null when it did, or for other jobs.
 */
export function variationResultProblem(job: { params: StoredParams; inputLeaseHash: string | null }, lease: string): string | null {
	if (!job.params.variation || job.inputLeaseHash === hashLease(lease)) return null;
	return 'a variation came back from an Island that never fetched its input picture (an outdated Island?)';
}
