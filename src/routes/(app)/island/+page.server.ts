import { trustConfig } from '$lib/server/trust/config';
import type { PageServerLoad } from './$types';

/** The escrow window, so the page can say how long earnings wait before they reach the balance. */
export const load: PageServerLoad = async () => ({ escrowWindowHours: trustConfig().escrowWindowMs / 3_600_000 });
