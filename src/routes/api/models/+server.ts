import { api } from '$lib/server/http';
import { broker } from '$lib/server/jobs';

/** The models on offer, with what a form and a quote need (sizes, steps, guidance, cost weight). */
export const GET = api(async () => Response.json({ models: broker().models.public() }, { headers: { 'cache-control': 'no-store' } }));
