// The /image form's state: fields, the size presets of the chosen model, validation by the
// shared schema and the live quote by the shared cost function (the server charges with
// the same function, so the number shown is the number debited).
import { costOf, tierOf, type PublicModel, type Tier } from '$lib/schemas/cost';
import type { GenerationParams, paramsSchemaFor } from '$lib/schemas/generation';
import { MAX_BATCH_SIZE, type QuoteResponse, type RecordedParams } from '$lib/api/jobs';

type ParamsSchema = ReturnType<typeof paramsSchemaFor>;

export type Field = 'prompt' | 'negativePrompt' | 'model' | 'size' | 'steps' | 'seed' | 'guidance';

export interface AspectGroup {
	key: string;
	label: string;
	sizes: [number, number][];
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

/** The model's sizes grouped by aspect ratio (square, then landscape, then portrait), smallest first. */
export function aspectGroups(model: PublicModel): AspectGroup[] {
	const groups = new Map<string, AspectGroup & { ratio: number }>();
	for (const [w, h] of model.sizes) {
		const d = gcd(w, h);
		const key = `${w / d}:${h / d}`;
		const ratio = w / h;
		const kind = ratio === 1 ? 'Square' : ratio > 1 ? 'Landscape' : 'Portrait';
		let g = groups.get(key);
		if (!g) groups.set(key, (g = { key, label: `${kind} ${key}`, sizes: [], ratio }));
		g.sizes.push([w, h]);
	}
	const order = (r: number) => (r === 1 ? 0 : r > 1 ? 1 : 2);
	return [...groups.values()]
		.sort((a, b) => order(a.ratio) - order(b.ratio) || Math.abs(Math.log(a.ratio)) - Math.abs(Math.log(b.ratio)))
		.map(({ key, label, sizes }) => ({ key, label, sizes: sizes.sort((a, b) => a[0] * a[1] - b[0] * b[1]) }));
}

/** Steps for a quality preset: the model's default for standard, the middle of the high range. */
export function presetSteps(model: PublicModel, tier: Tier): number {
	if (tier === 'standard') return Math.min(model.steps.standard[1], Math.max(model.steps.standard[0], model.steps.default));
	return Math.round((model.steps.high[0] + model.steps.high[1]) / 2);
}

export class GenerationForm {
	prompt = $state('');
	negativePrompt = $state('');
	showNegative = $state(false);
	modelId = $state('');
	width = $state(0);
	height = $state(0);
	steps = $state(0);
	/** Empty: a random seed, recorded by the server. */
	seed = $state('');
	/** Empty: the model's default guidance (how closely the image follows the prompt). */
	guidance = $state('');
	/** Locked: the seed stays for the next image instead of going back to random. */
	seedLocked = $state(false);
	/** Images per request, 1–MAX_BATCH_SIZE: the seed's image and the next seeds' (s, s+1, …). */
	count = $state(1);
	/** Fields whose errors are shown: touched ones, or all after a submit attempt. */
	#shown = $state<Set<Field>>(new Set());
	#models: PublicModel[];
	/**
	 * The shared zod schema, handed in once loaded: zod is most of a page's weight, so the
	 * page imports it after it is interactive (the quote doesn't need it).
	 */
	#schema = $state<ParamsSchema | null>(null);

	constructor(models: PublicModel[]) {
		this.#models = models;
		this.selectModel(models[0]?.id ?? '');
	}

	setSchema(schema: ParamsSchema) {
		this.#schema = schema;
	}

	get ready(): boolean {
		return this.#schema !== null;
	}

	get models(): PublicModel[] {
		return this.#models;
	}

	model = $derived.by(() => this.#models.find((m) => m.id === this.modelId) ?? null);
	groups = $derived(this.model ? aspectGroups(this.model) : []);
	aspect = $derived(this.groups.find((g) => g.sizes.some(([w, h]) => w === this.width && h === this.height))?.key ?? '');
	tier = $derived(this.model ? tierOf(this.model, this.steps) : null);
	/** The chosen model's example prompts (its manifest's): switching model switches them. */
	examples = $derived<string[]>(this.model?.examples ?? []);
	/** What the chosen model draws, shown under the model choice. */
	description = $derived(this.model?.description ?? '');

	/** Switching model keeps what still fits and falls back to the model's defaults otherwise. */
	selectModel(id: string) {
		const model = this.#models.find((m) => m.id === id);
		if (!model) return;
		this.modelId = id;
		if (!model.sizes.some(([w, h]) => w === this.width && h === this.height)) {
			const smallest = aspectGroups(model)[0].sizes[0];
			[this.width, this.height] = smallest;
		}
		if (!tierOf(model, this.steps)) this.steps = presetSteps(model, 'standard');
	}

	/** Keeps the size class when the ratio changes: the size at the same index, or the largest. */
	selectAspect(key: string) {
		const group = this.groups.find((g) => g.key === key);
		if (!group) return;
		const current = this.groups.find((g) => g.key === this.aspect);
		const index = current ? current.sizes.findIndex(([w, h]) => w === this.width && h === this.height) : 0;
		[this.width, this.height] = group.sizes[Math.min(Math.max(index, 0), group.sizes.length - 1)];
	}

	selectSize(value: string) {
		const [w, h] = value.split('x').map(Number);
		if (this.model?.sizes.some(([mw, mh]) => mw === w && mh === h)) [this.width, this.height] = [w, h];
	}

	setQuality(tier: Tier) {
		if (this.model) this.steps = presetSteps(this.model, tier);
	}

	/** The request as the API takes it; empty optional fields are left out. */
	params = $derived.by((): Record<string, unknown> => {
		const p: Record<string, unknown> = { prompt: this.prompt, model: this.modelId, width: this.width, height: this.height, steps: this.steps };
		if (this.negativePrompt.trim()) p.negativePrompt = this.negativePrompt;
		const seed = this.seed.trim();
		if (seed) p.seed = /^\d+$/.test(seed) ? Number(seed) : NaN;
		const guidance = this.guidance.trim();
		if (guidance) p.guidance = Number(guidance);
		return p;
	});

	#result = $derived.by(() => this.#schema?.safeParse(this.params) ?? null);

	/** The first message per field, from the shared schema. */
	errors = $derived.by(() => {
		const out: Partial<Record<Field, string>> = {};
		if (!this.#result || this.#result.success) return out;
		for (const issue of this.#result.error.issues) {
			const key = issue.path[0];
			const field: Field = key === 'width' || key === 'height' ? 'size' : (key as Field);
			out[field] ??=
				field === 'seed'
					? 'The seed is a whole number from 0 to 4294967295, or empty for a random one.'
					: field === 'guidance' && issue.code !== 'custom'
						? 'Guidance is a number, or empty for the model’s default.'
						: issue.message;
		}
		return out;
	});

	valid = $derived(this.#result?.success ?? false);
	validParams = $derived<GenerationParams | null>(this.#result?.success ? this.#result.data : null);

	/** The live quote: the shared cost function on the current size and steps, per image and for the request. */
	quote = $derived.by((): QuoteResponse | null => {
		if (!this.model || !this.tier) return null;
		const { cost, tier } = costOf(this.model, { width: this.width, height: this.height, steps: this.steps });
		return { cost, tier, count: this.count, total: cost * this.count };
	});

	setCount(n: number) {
		if (Number.isInteger(n) && n >= 1 && n <= MAX_BATCH_SIZE) this.count = n;
	}

	shown(field: Field): string | undefined {
		return this.#shown.has(field) ? this.errors[field] : undefined;
	}

	touch(field: Field) {
		if (!this.#shown.has(field)) this.#shown = new Set([...this.#shown, field]);
	}

	showAll() {
		this.#shown = new Set<Field>(['prompt', 'negativePrompt', 'model', 'size', 'steps', 'seed', 'guidance']);
	}

	/** After a submit: an unlocked seed goes back to random for the next image. */
	afterSubmit() {
		if (!this.seedLocked) this.seed = '';
	}

	/**
	 * "Reuse settings": every field from a past job, its seed locked so the image can be
	 * reproduced. `seed: false` keeps the seed random (a reload shows the job's settings).
	 */
	apply(p: RecordedParams, { seed = true }: { seed?: boolean } = {}) {
		if (this.#models.some((m) => m.id === p.model)) this.selectModel(p.model);
		this.prompt = p.prompt;
		this.negativePrompt = p.negativePrompt ?? '';
		this.showNegative = this.negativePrompt !== '';
		this.selectSize(`${p.width}x${p.height}`);
		this.steps = p.steps;
		// The model's default is recorded too; only a different value is worth showing.
		this.guidance = this.model && p.guidance !== this.model.guidance.default ? String(p.guidance) : '';
		if (seed) this.reuseSeed(p.seed);
	}

	reuseSeed(seed: number) {
		this.seed = String(seed);
		this.seedLocked = true;
	}
}
