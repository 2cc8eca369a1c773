import { redirect } from '@sveltejs/kit';
import { broker, getOwnJob, listOwnJobs } from '$lib/server/jobs';
import { LOW_BALANCE } from '$lib/schemas/credits';
import type { PageServerLoad } from './$types';

/** How many past generations the page shows (newest first). */
const HISTORY = 10;

export const load: PageServerLoad = async ({ locals, url, depends }) => {
	depends('app:image-history');
	// Load functions run side by side: the layout's redirect doesn't stop this one from starting.
	const user = locals.user;
	if (!user) redirect(303, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
	const b = broker();
	const jobId = url.searchParams.get('job');
	// ?job=… reconnects a reload or a second tab to that job; someone else's id is just ignored.
	const job = jobId ? await getOwnJob(b, user.id, jobId).catch(() => null) : null;
	return {
		models: b.models.public(),
		history: await listOwnJobs(b, user.id, HISTORY),
		job,
		lowBalance: LOW_BALANCE
	};
};
