// The Island's side of the API contract: what an Island sends (registration, heartbeat, claim,
// progress, failure) and what the broker answers (the claim, the result's earnings). zod, since
// both ends are trust boundaries: the server validates what Islands send, the Island validates
// the claim it runs. Declared once, here; the routes and both Islands import it.
import { z } from '../schemas/zod';

const MAX_PREVIEW_CHARS = 200_000;

/** A job's params as an Island runs them (the recorded params; seed and guidance filled in). */
export const JobParams = z.object({
	prompt: z.string(),
	negativePrompt: z.string().optional().nullable(),
	model: z.string(),
	width: z.number().int().positive(),
	height: z.number().int().positive(),
	steps: z.number().int().positive(),
	seed: z.number().int().nonnegative(),
	guidance: z.number(),
	/** A variation: its input picture comes from GET /api/islands/jobs/:id/input.png (with the lease). */
	variation: z.object({ strength: z.number().min(0.1).max(0.9) }).optional().nullable()
});
export type JobParams = z.infer<typeof JobParams>;

const backend = z.enum(['webgpu', 'wasm', 'node']);
const models = z
	.array(z.string().min(1).max(40))
	.max(20)
	.meta({ description: 'The ids (GET /api/models) of the models the Island has loaded: the broker gives it only jobs of these models.' });
const maxPixels = z.number().int().positive().max(4096 * 4096);

/** What an Island can run: sent at registration, in heartbeats, optionally with a claim. */
export const Capabilities = z.strictObject({ backend, models, maxPixels: maxPixels.optional() });
export type Capabilities = { backend: z.infer<typeof backend>; models: string[]; maxPixels: number };

/** POST /api/islands (a signed-in user): the `isl_…` token comes back once. */
export const RegisterIslandBody = z.strictObject({
	name: z.string().trim().min(1).max(80).default('My Island'),
	backend: backend.optional(),
	models: models.optional(),
	maxPixels: maxPixels.optional()
});

/** POST /api/islands/heartbeat. */
export const HeartbeatBody = Capabilities;

/** POST /api/islands/claim: optionally restates capabilities instead of a separate heartbeat. */
export const ClaimBody = z.strictObject({ models: models.optional(), maxPixels: maxPixels.optional() });

/** The claim (200): the job and its lease; every later call about the job carries the lease. */
export const ClaimResponse = z.object({
	job: z.object({ id: z.string().min(1), params: JobParams, tier: z.string(), attempt: z.number().int() }),
	lease: z.object({ token: z.string().min(1), expiresAt: z.string(), ttlMs: z.number().int().positive() })
});
export type ClaimResponse = z.infer<typeof ClaimResponse>;

/** POST /api/islands/jobs/:id/progress. */
export const ProgressBody = z.strictObject({
	lease: z.string().min(1).max(200),
	step: z.number().int().min(0).max(10_000),
	total: z.number().int().min(1).max(10_000),
	preview: z
		.string()
		.max(MAX_PREVIEW_CHARS)
		.regex(/^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/]+=*$/, 'preview must be a base64 data: URL of a PNG, JPEG or WebP')
		.optional()
});
export type ProgressBody = z.infer<typeof ProgressBody>;

/** POST /api/islands/jobs/:id/fail: the job goes back to the queue (or fails after its last attempt). */
export const FailBody = z.strictObject({
	lease: z.string().min(1).max(200),
	reason: z.string().trim().min(1).max(500)
});
export type FailBody = z.infer<typeof FailBody>;

/** The answer to POST /api/islands/jobs/:id/result (the PNG, with the lease in `x-lease`). */
export const ResultResponse = z.object({ imageId: z.string(), earned: z.number().int().nonnegative() });
export type ResultResponse = z.infer<typeof ResultResponse>;

/**
 * Where an Island stands (docs/trust.md): on probation it runs only canaries; trusted, it runs
 * requesters' jobs (spot-checked); quarantined, it gets nothing more.
 */
export const ISLAND_TRUST_STATES = ['probation', 'trusted', 'quarantined'] as const;
export type IslandTrust = (typeof ISLAND_TRUST_STATES)[number];

/** An Island as its owner sees it on /island and GET /api/islands. */
export interface IslandView {
	id: string;
	name: string;
	backend: string | null;
	models: string[];
	maxPixels: number;
	online: boolean;
	lastHeartbeatAt: string | null;
	jobsDone: number;
	createdAt: string;
	trust: IslandTrust;
	/** Canaries passed, and how many probation needs. */
	probation: { passed: number; needed: number };
	quarantineReason: string | null;
	/** Earnings in escrow, released once their window passes without a disputed result. */
	escrowed: number;
}
