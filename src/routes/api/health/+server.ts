import { dbHandle } from '$lib/server/db';

export const GET = () => Response.json({ ok: true, database: dbHandle().driver }, { headers: { 'cache-control': 'no-store' } });
