// What the server answers, as zod: the API document (/api/openapi.json) is generated from
// these and the request schemas (named as components in server/openapi/document.ts, not with
// zod's global registry, whose ids can't be registered twice, as a dev server's reload does), and the tests validate real answers against it. The pages
// read the plain types of jobs.ts and islands.ts (no zod on /image's first load); the checks
// at the bottom keep those types and these schemas the same shape, at compile time.
import { z } from '../schemas/zod';
import { JOB_FAILURE_CODES } from '../schemas/failures';
import { API_KEY_SCOPES } from '../schemas/scopes';
import { CREDIT_PACKS, type CreditPackId } from '../schemas/credits';
import { JOB_STATUSES, JOB_VERIFICATIONS, type JobView, type QuoteResponse, type SubmitResponse } from './jobs';
import { ISLAND_TRUST_STATES, type IslandView } from './islands';

const isoDate = z.string().meta({ format: 'date-time' });
const tier = z.enum(['standard', 'high']);
const credits = z.number().int();

export const Balance = z.object({ available: credits, held: credits });

export const AccountSummary = z
	.object({
		user: z.object({ id: z.string(), email: z.string(), kycStatus: z.enum(['unverified', 'pending', 'verified', 'rejected']), isAdmin: z.boolean() }),
		balance: Balance
	});

export const Health = z.object({ ok: z.boolean(), database: z.enum(['pglite', 'postgres']) });

const range = z.tuple([z.number().int(), z.number().int()]);
export const PublicModelSchema = z
	.object({
		id: z.string(),
		name: z.string(),
		description: z.string().optional().meta({ description: 'What the model draws, in a sentence or two.' }),
		examples: z.array(z.string()).optional().meta({ description: 'Prompts the model draws well (at most 8, from its manifest), to start from; empty when it gives none.' }),
		sizes: z.array(range).meta({ description: '[width, height] pairs the model draws' }),
		steps: z.object({ standard: range, high: range, default: z.number().int() }),
		guidance: z.object({ min: z.number(), max: z.number(), default: z.number() }),
		costWeight: z.number(),
		variations: z.boolean().optional().meta({ description: 'Whether it can vary one of your pictures (its manifest has a VAE encoder).' })
	});
export const ModelList = z.object({ models: z.array(PublicModelSchema) });

export const Quote = z.object({
	cost: credits.meta({ description: 'One image.' }),
	tier,
	count: z.number().int().meta({ description: 'Images in the request (1–4).' }),
	total: credits.meta({ description: 'The whole request: cost × count.' })
});

export const RecordedParamsSchema = z
	.object({
		prompt: z.string().meta({ description: 'Empty once the job\'s picture was deleted (the prompt is erased with it).' }),
		negativePrompt: z.string().optional(),
		model: z.string(),
		width: z.number().int(),
		height: z.number().int(),
		steps: z.number().int(),
		seed: z.number().int(),
		guidance: z.number(),
		variation: z.object({ imageId: z.string(), strength: z.number() }).optional().meta({ description: 'A variation of one of your pictures: its id and how far from it (0.1–0.9).' })
	});

export const JobViewSchema = z
	.object({
		id: z.string(),
		status: z.enum(JOB_STATUSES),
		params: RecordedParamsSchema,
		cost: credits,
		tier,
		attempts: z.number().int(),
		createdAt: isoDate,
		startedAt: isoDate.nullable(),
		finishedAt: isoDate.nullable(),
		failureCode: z.enum(JOB_FAILURE_CODES).nullable(),
		failureReason: z.string().nullable(),
		refunded: credits,
		imageUrl: z.string().nullable(),
		imageDeletedAt: isoDate.nullable().meta({ description: 'When the requester deleted the picture: imageUrl is null and share links answer 404.' }),
		progress: z.object({ step: z.number().int(), total: z.number().int() }).nullable(),
		verification: z.enum(JOB_VERIFICATIONS),
		shareUrl: z.string().nullable().optional(),
		batchId: z.string().meta({ description: 'The request it was made by: the id of that request\'s first job (a lone job: its own id).' }),
		batchIndex: z.number().int().meta({ description: 'Its place in that request, from 0: its seed is the first job\'s seed + batchIndex.' })
	});
export const JobResponse = z.object({ job: JobViewSchema });
export const JobList = z.object({ jobs: z.array(JobViewSchema) });
export const SubmitResult = z.object({
	// `job`: the first image's (the only one of a single image); `jobs`: every image's, in seed order.
	job: JobViewSchema,
	jobs: z.array(JobViewSchema),
	batch: z.object({ id: z.string(), count: z.number().int(), cost: credits.meta({ description: 'Held for the whole request.' }) })
});
export const ShareLink = z.object({ url: z.string(), expiresAt: isoDate });

export const ApiKeyView = z
	.object({
		id: z.string(),
		name: z.string(),
		prefix: z.string(),
		scopes: z.array(z.enum(API_KEY_SCOPES)),
		createdAt: isoDate,
		lastUsedAt: isoDate.nullable(),
		revokedAt: isoDate.nullable()
	});
export const ApiKeyList = z.object({ keys: z.array(ApiKeyView) });
export const ApiKeyCreated = z.object({ key: ApiKeyView, secret: z.string().meta({ description: 'The `ak_…` key, shown once.' }) });

export const PurchaseResult = z.object({
	purchase: z.object({
		transactionId: z.number().int(),
		pack: z.enum(Object.keys(CREDIT_PACKS) as [CreditPackId, ...CreditPackId[]]),
		credits,
		virtual: z.literal(true)
	}),
	balance: Balance
});

export const KycStateSchema = z.object({
	status: z.enum(['unverified', 'pending', 'verified', 'rejected']),
	provider: z.enum(['sandbox', 'stripe']),
	reason: z.string().nullable(),
	retryAt: isoDate.nullable()
});
export const KycStartResult = z.object({ kyc: KycStateSchema, redirectUrl: z.string().optional() });

export const IslandViewSchema = z
	.object({
		id: z.string(),
		name: z.string(),
		backend: z.string().nullable(),
		models: z.array(z.string()),
		maxPixels: z.number().int(),
		online: z.boolean(),
		lastHeartbeatAt: isoDate.nullable(),
		jobsDone: z.number().int(),
		createdAt: isoDate,
		trust: z.enum(ISLAND_TRUST_STATES),
		probation: z.object({ passed: z.number().int(), needed: z.number().int() }),
		quarantineReason: z.string().nullable(),
		escrowed: credits
	});
export const IslandList = z.object({ islands: z.array(IslandViewSchema) });
export const IslandRegistered = z.object({ island: IslandViewSchema, token: z.string().meta({ description: 'The `isl_…` token, shown once.' }) });
export const IslandResponse = z.object({ island: IslandViewSchema });
export const ProgressAccepted = z.object({ leaseExpiresAt: isoDate });
export const FailAccepted = z.object({ status: z.enum(['queued', 'failed']) });

export const LedgerCheckSchema = z.object({
	ok: z.boolean(),
	checkedAt: isoDate,
	totals: z.object({ entries: z.number().int(), transactions: z.number().int(), sum: z.number().int() }),
	problems: z.array(z.string())
});

// Compile-time: the pages' plain types and these schemas describe the same objects.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape = <T extends true>(_: T) => _;
sameShape<Same<z.infer<typeof IslandViewSchema>, IslandView>>(true);
// JobView's params carry GenerationParams' optional fields; every JobView fits the schema.
sameShape<JobView extends z.input<typeof JobViewSchema> ? true : false>(true);
sameShape<Same<keyof z.infer<typeof JobViewSchema>, keyof JobView>>(true);
sameShape<SubmitResponse extends z.input<typeof SubmitResult> ? true : false>(true);
sameShape<Same<keyof z.infer<typeof SubmitResult>, keyof SubmitResponse>>(true);
sameShape<Same<z.infer<typeof Quote>, QuoteResponse>>(true);
