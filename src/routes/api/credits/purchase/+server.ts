import { CREDIT_PACKS, PurchaseRequest } from '$lib/schemas/credits';
import { db } from '$lib/server/db';
import { api, clientAddress, readJson, requireUser } from '$lib/server/http';
import { idempotencyKeyFrom, once } from '$lib/server/idempotency';
import { getBalances, purchase } from '$lib/server/ledger';
import { enforce } from '$lib/server/rate-limit';

export const POST = api(async (event) => {
	const user = requireUser(event, 'credits:buy');
	const key = idempotencyKeyFrom(event.request);
	const body = await readJson(event.request, PurchaseRequest);
	// Beta credits are free to mint: a daily cap per user keeps one account from inflating them.
	await enforce([
		['purchaseUser', user.id, 'credit purchases today'],
		['purchaseIp', clientAddress(event), 'credit purchases from your network']
	]);
	const pack = CREDIT_PACKS[body.pack];
	const result = await db().transaction((tx) =>
		once(tx, { userId: user.id, scope: 'credits.purchase', key }, body, async () => {
			const transactionId = await purchase(tx, user.id, pack.credits, `${pack.label} pack (virtual beta credits)`);
			return {
				status: 201,
				body: { purchase: { transactionId, pack: body.pack, credits: pack.credits, virtual: true }, balance: await getBalances(tx, user.id) }
			};
		})
	);
	return Response.json(result.body, { status: result.status, headers: { 'idempotent-replayed': String(result.replayed) } });
});
