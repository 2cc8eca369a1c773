import { redirect } from '@sveltejs/kit';
import { MAX_BATCH_SIZE } from '$lib/api/jobs';
import { broker, getOwnJob, listOwnBatches, listOwnJobs } from '$lib/server/jobs';
import { promptWindow } from '$lib/server/models';
import { capLimits } from '$lib/server/rate-limit';
import { LOW_BALANCE } from '$lib/schemas/credits';
import type { PageServerLoad } from './$types';

/** How many past requests the page shows (newest first; a batch is one). */
const HISTORY = 10;

export const load: PageServerLoad = async ({ locals, url, depends }) => {
	depends('app:image-history');
	// Load functions run side by side: the layout's redirect doesn't stop this one from starting.
	const user = locals.user;
	if (!user) redirect(303, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
	const b = broker();
	const jobId = url.searchParams.get('job');
	// ?job=… reconnects a reload or a second tab to that job and the rest of its request;
	// someone else's id is just ignored.
	const job = jobId ? await getOwnJob(b, user.id, jobId).catch(() => null) : null;
	const siblings = job ? await listOwnJobs(b, user.id, { limit: MAX_BATCH_SIZE, batchId: job.batchId }) : [];
	return {
		models: b.models.public(),
		promptWindows: Object.fromEntries(b.models.list().map((m) => [m.id, promptWindow(m)])),
		history: await listOwnBatches(b, user.id, HISTORY),
		// The user's queue: every job of theirs in flight, from this tab or any other client.
		queue: await listOwnJobs(b, user.id, { limit: 100, active: true }),
		maxActive: capLimits().activeJobsPerUser,
		// The named job even when its picture was deleted (its siblings list leaves such jobs out): it says so.
		shown: job ? [job, ...siblings.filter((s) => s.id !== job.id)].sort((x, y) => x.batchIndex - y.batchIndex) : null,
		lowBalance: LOW_BALANCE
	};
};
