import { error, fail } from '@sveltejs/kit';
import { z } from 'zod';
import { db } from '$lib/server/db';
import { islandsOverview, recentJobs, recentKycEvents, rejectedPrompts, usersWithBalances } from '$lib/server/admin/console';
import { kycConfig, pendingVerifications, reviewVerification, revokeVerification } from '$lib/server/kyc';
import { checkLedger } from '$lib/server/ledger';
import { setAdmin } from '$lib/server/auth/admin';
import { islandsUnderReview, reinstateIsland, vouchForIsland } from '$lib/server/trust/admin';
import type { Actions, PageServerLoad } from './$types';

/** The console doesn't admit it exists to anyone but an admin. */
function requireAdmin(locals: App.Locals) {
	if (!locals.user?.isAdmin) error(404, 'Not found');
	return locals.user;
}

export const load: PageServerLoad = async ({ locals }) => {
	const me = requireAdmin(locals);
	const tx = db();
	const [pending, kycEvents, users, islands, jobs, rejections, ledger, underReview] = await Promise.all([
		pendingVerifications(tx),
		recentKycEvents(tx),
		usersWithBalances(tx),
		islandsOverview(tx),
		recentJobs(tx),
		rejectedPrompts(tx),
		checkLedger(tx),
		islandsUnderReview(tx)
	]);
	return { pending, kycEvents, users, islands, jobs, rejections, ledger, underReview, kycProvider: kycConfig().provider, me: me.id };
};

const Grant = z.object({ userId: z.string().min(1), grant: z.enum(['true', 'false']) });

const Review = z.object({
	userId: z.string().min(1),
	decision: z.enum(['approve', 'reject']),
	reason: z.string().max(500).default('')
});

const TrustDecision = z.object({ islandId: z.string().min(1), decision: z.enum(['reinstate', 'vouch']) });

const Revoke = z.object({ userId: z.string().min(1), reason: z.string().max(500).default('') });

export const actions: Actions = {
	/** Reinstates a quarantined Island, or vouches for one (its results become references). */
	island: async ({ locals, request }) => {
		requireAdmin(locals);
		const parsed = TrustDecision.safeParse(Object.fromEntries(await request.formData()));
		if (!parsed.success) return fail(422, { message: 'Choose an Island and reinstate or vouch.' });
		const { islandId, decision } = parsed.data;
		const done = decision === 'vouch' ? await vouchForIsland(db(), islandId) : await reinstateIsland(db(), islandId);
		if (!done) return fail(409, { message: decision === 'vouch' ? 'No such Island.' : 'That Island is not quarantined (any more).' });
		return { island: { islandId, decision } };
	},
	/** Takes a person's verification back: they can't generate until they verify again. */
	revoke: async ({ locals, request }) => {
		const admin = requireAdmin(locals);
		const parsed = Revoke.safeParse(Object.fromEntries(await request.formData()));
		if (!parsed.success) return fail(422, { message: 'Choose a user.' });
		if (!(await revokeVerification(db(), admin, parsed.data.userId, parsed.data.reason))) {
			return fail(409, { message: 'That person is not verified (any more).' });
		}
		return { revoked: parsed.data.userId };
	},
	/** Admins make other admins (and withdraw it, never from themselves). */
	admin: async ({ locals, request }) => {
		const admin = requireAdmin(locals);
		const parsed = Grant.safeParse(Object.fromEntries(await request.formData()));
		if (!parsed.success) return fail(422, { message: 'Choose a user.' });
		if (!(await setAdmin(db(), admin.id, parsed.data.userId, parsed.data.grant === 'true'))) {
			return fail(409, { message: 'That change is not possible (an admin cannot remove their own rights).' });
		}
		return { granted: parsed.data };
	},
	review: async ({ locals, request }) => {
		const admin = requireAdmin(locals);
		const parsed = Review.safeParse(Object.fromEntries(await request.formData()));
		if (!parsed.success) return fail(422, { message: 'Choose approve or reject for a user.' });
		const { userId, decision, reason } = parsed.data;
		const changed = await reviewVerification(db(), admin, userId, decision, reason);
		if (!changed) return fail(409, { message: 'That verification is no longer pending (someone else decided it).' });
		return { reviewed: { userId, decision } };
	}
};
