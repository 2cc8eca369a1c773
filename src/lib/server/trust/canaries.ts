// Canaries: known-answer jobs for Islands on probation (docs/trust.md). Their prompts are made
// from each model's domain (canary-prompts.ts), never taken from a requester; a vouched Island
// computes each answer once (a `reference` job), then every Island on probation that gets the
// canary must draw the same picture. Canaries are per model: a pool per model, a canary's
// reference and every answer to it are runs of that model (the jobs carry it, and only an
// Island that advertises the model may claim them), so pictures of two models are never compared.
import { randomInt } from 'node:crypto';
import { and, count, eq, inArray, isNotNull, isNull, lte, notExists, sql } from 'drizzle-orm';
import { costOf } from '$lib/schemas/generation';
import type { ModelManifest } from '$lib/schemas/manifest';
import { UINT32_MAX } from '$lib/schemas/generation';
import { newId } from '../auth/tokens';
import type { Queryable } from '../db';
import { canaries, jobs, users } from '../db/schema';
import type { BrokerEvent } from '../events';
import type { Broker } from '../jobs/context';
import { leaseTtlMs } from '../jobs/lease';
import { canaryPrompt } from './canary-prompts';
import { trustConfig } from './config';
import { inLiterals } from '../db/literal';

/** The platform's own account: it "requests" canaries, references and checks (never signs in). */
export const SYSTEM_USER_ID = 'system';
export const SYSTEM_USER_EMAIL = 'system@archipelago.invalid';

/** Made once when a broker starts: every platform job (canary, reference, check, rerun) is its. */
export async function ensureSystemUser(tx: Queryable) {
	// '!' is never a valid scrypt/argon2 hash: nobody can sign in as the system user.
	await tx.insert(users).values({ id: SYSTEM_USER_ID, email: SYSTEM_USER_EMAIL, passwordHash: '!', kycStatus: 'verified' }).onConflictDoNothing();
}

const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)];

/** Params a requester would send: the smaller sizes and the model's default steps. */
function canaryParams(model: ModelManifest) {
	const sizes = [...model.sizes].sort((a, b) => a[0] * a[1] - b[0] * b[1]).slice(0, 3);
	const [width, height] = pick(sizes);
	return { prompt: canaryPrompt(model), model: model.id, width, height, steps: model.steps.default, seed: randomInt(0, UINT32_MAX), guidance: model.guidance.default };
}

/** A job the platform asks for (a reference, a canary, a check): no hold, paid from fees when done. */
export function platformJob(broker: Broker, values: Pick<typeof jobs.$inferInsert, 'kind' | 'params'> & Partial<typeof jobs.$inferInsert>) {
	const model = broker.models.get(values.params.model)!;
	const { cost, tier } = costOf(model, values.params);
	const pixels = values.params.width * values.params.height;
	return {
		id: newId(),
		userId: SYSTEM_USER_ID,
		model: model.id,
		pixels,
		cost,
		tier,
		leaseTtlMs: leaseTtlMs(values.params.steps, pixels),
		...values
	} satisfies typeof jobs.$inferInsert;
}

/**
 * Tops the model's pool up to TRUST_CANARY_POOL canaries, each with a reference job for a
 * vouched Island. A canary whose reference run failed is dropped so the pool can refill.
 */
export async function ensureCanaryPool(tx: Queryable, broker: Broker, modelId: string): Promise<BrokerEvent[]> {
	const model = broker.models.get(modelId);
	if (!model) return [];
	await tx.delete(canaries).where(
		and(
			eq(canaries.model, modelId),
			isNull(canaries.referenceImageId),
			notExists(tx.select({ id: jobs.id }).from(jobs).where(and(eq(jobs.canaryId, canaries.id), eq(jobs.kind, 'reference'), inLiterals(jobs.status, ['queued', 'running']))))
		)
	);
	const [have] = await tx.select({ n: count() }).from(canaries).where(eq(canaries.model, modelId));
	const missing = trustConfig().canaryPoolSize - have.n;
	if (missing <= 0) return [];
	const wakes: BrokerEvent[] = [];
	for (let i = 0; i < missing; i++) {
		const params = canaryParams(model);
		const canary = { id: newId(), model: model.id, params, pixels: params.width * params.height };
		await tx.insert(canaries).values(canary);
		// Dated at the epoch, so the queue's oldest-first order runs it before requesters' jobs:
		// an Island on probation waits for these answers, however long the queue.
		const job = platformJob(broker, { kind: 'reference', params, canaryId: canary.id, createdAt: new Date(0) });
		await tx.insert(jobs).values(job);
		wakes.push({ type: 'queued', id: job.id, model: job.model, pixels: job.pixels, vouchedOnly: true });
	}
	return wakes;
}

/**
 * Makes sure an Island on probation has a canary waiting: one it has not had yet, of a model
 * it runs, of a size it takes. Returns the wake-ups to publish once the transaction commits.
 */
export async function provideCanary(tx: Queryable, broker: Broker, island: { id: string; models: string[]; maxPixels: number }): Promise<BrokerEvent[]> {
	const [pending] = await tx
		.select({ id: jobs.id })
		.from(jobs)
		.where(and(eq(jobs.targetIslandId, island.id), eq(jobs.kind, 'canary'), inLiterals(jobs.status, ['queued', 'running'])))
		.limit(1);
	if (pending) return [];
	const models = island.models.filter((m) => broker.models.get(m));
	if (models.length === 0) return [];
	const given = tx.select({ id: jobs.id }).from(jobs).where(and(eq(jobs.targetIslandId, island.id), eq(jobs.canaryId, canaries.id)));
	const [canary] = await tx
		.select()
		.from(canaries)
		.where(and(inArray(canaries.model, models), isNotNull(canaries.referenceImageId), lte(canaries.pixels, island.maxPixels), notExists(given)))
		.orderBy(sql`random()`)
		.limit(1);
	if (!canary) {
		// None answered yet (or this Island had them all): ask the vouched Islands for more.
		const wakes: BrokerEvent[] = [];
		for (const m of models) wakes.push(...(await ensureCanaryPool(tx, broker, m)));
		return wakes;
	}
	const job = platformJob(broker, { kind: 'canary', params: canary.params, canaryId: canary.id, targetIslandId: island.id });
	await tx.insert(jobs).values(job);
	return [{ type: 'queued', id: job.id, model: job.model, pixels: job.pixels, island: island.id }];
}
