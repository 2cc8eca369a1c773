// What a result means, by the job's kind (docs/trust.md), inside the transaction that stores
// it: a requester's job is paid into escrow and sometimes spot-checked; a canary is compared
// with its known answer; a check with the result it checks; a rerun replaces a liar's picture.
import { randomInt } from 'node:crypto';
import { and, asc, eq, ne, sql } from 'drizzle-orm';
import type { Queryable } from '../db';
import { canaries, islands, jobs, trustChecks } from '../db/schema';
import { hotStatement, slot } from '../db/hot';
import type { ImageStore } from '../jobs/images';
import { jobVersionBump } from '../jobs/views';
import { payFromFees, settleJob } from '../ledger';
import { compareImages, type ImageComparison } from './compare';
import { speedBound, trustConfig } from './config';
import { queuedEvent } from './eligibility';
import { payeeOf, payRecord } from './escrow';
import { quarantineIsland, redoOf, withdrawImage, type Announcements } from './quarantine';
import { variationSteps } from '$lib/schemas/cost';
import { eqLiteral } from '../db/literal';
import { plannedEachTime } from '../db/prepared';

type JobRow = typeof jobs.$inferSelect;
type ResultIsland = Pick<typeof islands.$inferSelect, 'id' | 'userId' | 'vouched' | 'backend' | 'createdAt'>;

export interface ResultContext {
	images: ImageStore;
	/** The job as it was just marked completed (imageId set). */
	job: JobRow;
	/** What a verdict reads of the Island, as its result's transaction just updated it. */
	island: ResultIsland;
	png: Uint8Array;
}

export interface Outcome {
	earned: number;
	announce: Announcements;
}

/** Megapixel-steps per second above the claimed backend's bound: an answer made up, not computed. */
export function tooFast(job: Pick<JobRow, 'pixels' | 'params' | 'startedAt' | 'model'>, backend: string | null, now = Date.now()): boolean {
	const seconds = Math.max(1e-3, (now - (job.startedAt?.getTime() ?? now)) / 1000);
	// A variation runs only its last steps: judged by those, or an honest one would look too fast.
	const steps = job.params.variation ? variationSteps(job.params.steps, job.params.variation.strength) : job.params.steps;
	return ((job.pixels / 1e6) * steps) / seconds > speedBound(job.model, backend);
}

function spotCheckRate(island: ResultIsland): number {
	const config = trustConfig();
	const young = Date.now() - island.createdAt.getTime() < config.newIslandDays * 86_400_000;
	return young ? config.newIslandSpotCheckRate : config.spotCheckRate;
}

const chance = (p: number) => p >= 1 || (p > 0 && randomInt(1_000_000) < p * 1_000_000);

/** What the job earned its Island, and whether that sits in escrow (payRecord), when the result's UPDATE guessed otherwise (expectedPay). */
const recordPay = hotStatement((db) =>
	db
		.update(jobs)
		.set({ earned: slot<number>('earned'), escrow: slot<'held' | null>('escrow') })
		.where(eq(jobs.id, sql.placeholder('id')))
);

export async function recordResult(tx: Queryable, ctx: ResultContext): Promise<Outcome> {
	const { job } = ctx;
	const subject = job.subjectJobId ? ((await tx.select().from(jobs).where(eq(jobs.id, job.subjectJobId)))[0] ?? null) : null;
	// A check's or rerun's picture is the requester's (it may replace theirs); a canary's the platform's.
	const owner = subject?.userId ?? job.userId;
	await ctx.images.put(tx, { id: job.imageId!, userId: owner, jobId: job.id, width: job.params.width, height: job.params.height, bytes: ctx.png });
	const payee = payeeOf(ctx.island);
	const paid = job.kind === 'user' ? ((await settleJob(tx, job.id, payee))?.earned ?? 0) : (await payFromFees(tx, job.id, job.cost, payee)).earned;
	const pay = payRecord(ctx.island, paid);
	if (job.earned !== pay.earned || job.escrow !== pay.escrow) await recordPay(tx, { id: job.id, ...pay });
	const announce: Announcements = [];
	if (job.kind === 'user') announce.push(...(await maybeSpotCheck(tx, ctx)));
	else if (job.kind === 'canary') announce.push(...(await judgeCanary(tx, ctx)));
	else if (job.kind === 'reference') {
		await tx.update(canaries).set({ referenceImageId: job.imageId }).where(eq(canaries.id, job.canaryId!));
		// An Island on probation may be sleeping for want of a canary: this one is ready now.
		announce.push({ type: 'queued', id: job.id, model: job.model, pixels: job.pixels, forProbation: true });
	}
	else if (subject && job.kind === 'check') announce.push(...(await judgeCheck(tx, ctx, subject)));
	else if (subject && job.kind === 'rerun') announce.push(...(await applyRerun(tx, ctx, subject)));
	return { earned: paid, announce };
}

async function maybeSpotCheck(tx: Queryable, { job, island }: ResultContext): Promise<Announcements> {
	if (island.vouched) return [];
	const fast = tooFast(job, island.backend);
	if (fast) await tx.update(islands).set({ speedFlags: sql`${islands.speedFlags} + 1` }).where(eq(islands.id, island.id));
	if (!fast && !chance(spotCheckRate(island))) return [];
	const [check] = await tx.insert(jobs).values(redoOf(job, 'check', [island.userId])).returning();
	await tx.update(jobs).set({ verification: 'checking', version: jobVersionBump }).where(eq(jobs.id, job.id));
	return [queuedEvent(check), { type: 'job', id: job.id }];
}

async function bytesOf(tx: Queryable, store: ImageStore, imageId: string | null): Promise<Uint8Array> {
	const image = imageId ? await store.get(tx, imageId) : null;
	return image?.bytes ?? new Uint8Array();
}

async function record(tx: Queryable, values: Omit<typeof trustChecks.$inferInsert, 'same' | 'distance' | 'detail'>, verdict: ImageComparison) {
	await tx.insert(trustChecks).values({ ...values, same: verdict.same, distance: verdict.maxTileDistance, detail: verdict.reason ?? '' });
}

async function judgeCanary(tx: Queryable, ctx: ResultContext): Promise<Announcements> {
	const { job, island } = ctx;
	const [canary] = await tx.select().from(canaries).where(eq(canaries.id, job.canaryId!));
	const verdict = compareImages(ctx.png, await bytesOf(tx, ctx.images, canary?.referenceImageId ?? null));
	await record(tx, { islandId: island.id, jobId: job.id, kind: 'canary', otherIslandId: null, imageId: job.imageId!, otherImageId: canary?.referenceImageId ?? '' }, verdict);
	if (!verdict.same) return quarantineIsland(tx, island.id, `a known-answer job came back different (${verdict.reason ?? 'another picture'})`);
	const { probationCanaries } = trustConfig();
	await tx
		.update(islands)
		.set({
			canariesPassed: sql`${islands.canariesPassed} + 1`,
			trust: sql`case when ${islands.trust} = 'probation' and ${islands.canariesPassed} + 1 >= ${probationCanaries} then 'trusted' else ${islands.trust} end`,
			trustedAt: sql`case when ${islands.trust} = 'probation' and ${islands.canariesPassed} + 1 >= ${probationCanaries} then now() else ${islands.trustedAt} end`
		})
		.where(eq(islands.id, island.id));
	return [];
}

/**
 * The requester's picture becomes `imageId` (drawn by a check or a rerun: should that Island
 * be caught lying later, its quarantine redraws this job again); the liar's is withdrawn.
 */
async function replacePicture(tx: Queryable, subject: JobRow, imageId: string): Promise<Announcements> {
	await withdrawImage(tx, subject.imageId);
	await tx.update(jobs).set({ imageId, verification: 'replaced', version: jobVersionBump, updatedAt: sql`now()` }).where(eq(jobs.id, subject.id));
	return [{ type: 'job', id: subject.id }];
}

async function setVerification(tx: Queryable, subject: JobRow, verification: JobRow['verification']): Promise<Announcements> {
	await tx.update(jobs).set({ verification, version: jobVersionBump, updatedAt: sql`now()` }).where(eq(jobs.id, subject.id));
	return [{ type: 'job', id: subject.id }];
}

async function judgeCheck(tx: Queryable, ctx: ResultContext, subject: JobRow): Promise<Announcements> {
	const { job, island } = ctx;
	// A rerun already replaced it (its Island was quarantined meanwhile): nothing to decide.
	if (subject.verification === 'redoing' || subject.verification === 'replaced') return [];
	const earlier = await tx
		.select({ id: jobs.id, islandId: jobs.islandId, imageId: jobs.imageId })
		.from(jobs)
		.where(and(plannedEachTime(), eq(jobs.subjectJobId, subject.id), eq(jobs.kind, 'check'), eqLiteral(jobs.status, 'completed'), ne(jobs.id, job.id)))
		.orderBy(asc(jobs.finishedAt));
	const vsSubject = compareImages(ctx.png, await bytesOf(tx, ctx.images, subject.imageId));
	const first = earlier[0];
	await record(tx, { islandId: subject.islandId!, jobId: subject.id, kind: first ? 'dispute' : 'check', otherIslandId: island.id, imageId: subject.imageId!, otherImageId: job.imageId! }, vsSubject);
	const liarSubject = async (honestImageId: string) => [
		...(await replacePicture(tx, subject, honestImageId)),
		...(await quarantineIsland(tx, subject.islandId!, `another owner's Island drew a different picture for the same job (${vsSubject.reason ?? 'differs'})`))
	];
	if (!first) {
		if (vsSubject.same) return setVerification(tx, subject, 'confirmed');
		// A vouched Island's answer is the reference: no third run needed.
		if (island.vouched) return liarSubject(job.imageId!);
		const [third] = await tx.insert(jobs).values(redoOf(subject, 'check', [...subject.barredOwners, ...job.barredOwners, island.userId])).returning();
		return [queuedEvent(third), ...(await setVerification(tx, subject, 'disputed'))];
	}
	// The third run decides between the requester's picture and the first check's.
	const vsFirst = compareImages(ctx.png, await bytesOf(tx, ctx.images, first.imageId));
	await record(tx, { islandId: first.islandId!, jobId: first.id, kind: 'dispute', otherIslandId: island.id, imageId: first.imageId!, otherImageId: job.imageId! }, vsFirst);
	if (vsSubject.same) {
		const out = await quarantineIsland(tx, first.islandId!, `its check disagreed with two other owners' Islands (${vsFirst.reason ?? 'differs'})`);
		return [...out, ...(await setVerification(tx, subject, 'confirmed'))];
	}
	if (vsFirst.same) return liarSubject(first.imageId!);
	return []; // Three different pictures: left disputed for an admin (/admin lists it).
}

async function applyRerun(tx: Queryable, ctx: ResultContext, subject: JobRow): Promise<Announcements> {
	const verdict = compareImages(ctx.png, await bytesOf(tx, ctx.images, subject.imageId));
	await record(tx, { islandId: subject.islandId!, jobId: subject.id, kind: 'check', otherIslandId: ctx.island.id, imageId: subject.imageId!, otherImageId: ctx.job.imageId! }, verdict);
	// The quarantined Island drew this one honestly: the requester keeps the picture they have.
	if (verdict.same) return setVerification(tx, subject, 'confirmed');
	return replacePicture(tx, subject, ctx.job.imageId!);
}
