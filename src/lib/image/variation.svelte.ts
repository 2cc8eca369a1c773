// "Vary" on /image: a finished picture of the requester's, a strength and optionally a new
// prompt. The request keeps the picture's model, size, steps and guidance (a variation keeps
// its input's size); the seed is new each time. The quote is the shared cost function's, so
// the price shown follows the steps the variation runs, as the server charges.
import { costOf, STRENGTH_RANGE, variationSteps, type PublicModel } from '$lib/schemas/cost';
import type { JobView } from '$lib/api/jobs';

/** The picture's id, from the job's imageUrl (`/api/images/:id.png`). */
export function imageIdOf(imageUrl: string | null): string | null {
	return imageUrl ? (/\/api\/images\/([^/?#.]+)\.png/.exec(imageUrl)?.[1] ?? null) : null;
}

/** Whether a job's picture can be varied: finished, with an image, of a model that varies. */
export function canVary(job: JobView, models: readonly PublicModel[]): boolean {
	return job.status === 'completed' && imageIdOf(job.imageUrl) !== null && !!models.find((m) => m.id === job.params.model)?.variations;
}

export class VariationDraft {
	/** The job whose picture is being varied; null while the panel is closed. */
	source = $state<JobView | null>(null);
	strength = $state(0.5);
	/** Empty: the picture's own prompt. */
	prompt = $state('');
	#models: readonly PublicModel[];

	constructor(models: readonly PublicModel[]) {
		this.#models = models;
	}

	readonly min = STRENGTH_RANGE[0];
	readonly max = STRENGTH_RANGE[1];

	open(job: JobView) {
		if (!canVary(job, this.#models)) return;
		this.source = job;
		this.prompt = '';
	}

	close() {
		this.source = null;
	}

	model = $derived.by(() => this.#models.find((m) => m.id === this.source?.params.model) ?? null);

	/** The request as the API takes it, or null while nothing is open. */
	params = $derived.by((): Record<string, unknown> | null => {
		const src = this.source;
		const imageId = imageIdOf(src?.imageUrl ?? null);
		if (!src || !imageId) return null;
		const p: Record<string, unknown> = {
			prompt: this.prompt.trim() || src.params.prompt,
			model: src.params.model,
			width: src.params.width,
			height: src.params.height,
			steps: src.params.steps,
			guidance: src.params.guidance,
			variation: { imageId, strength: this.strength }
		};
		if (src.params.negativePrompt) p.negativePrompt = src.params.negativePrompt;
		return p;
	});

	/** Steps the variation runs: the last `steps × strength` of the picture's schedule. */
	stepsRun = $derived(this.source ? variationSteps(this.source.params.steps, this.strength) : 0);

	quote = $derived.by(() => {
		const src = this.source;
		if (!src || !this.model) return null;
		try {
			return costOf(this.model, { ...src.params, variation: { strength: this.strength } });
		} catch {
			return null; // the model's step ranges changed since: the server will say so
		}
	});
}
