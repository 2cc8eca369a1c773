// The built-in Island: `npm start` runs one headless Island beside the server so a fresh
// install generates images with no volunteer. server/start.js makes its token and hands it
// to both processes through the environment; here the server registers that token (hashed)
// for a system user, replacing the one from the previous start.
import { hostname } from 'node:os';
import { sql } from 'drizzle-orm';
import type { Queryable } from './db';
import { islands } from './db/schema';
import { hashToken } from './auth/tokens';
import { ensureSystemUser, SYSTEM_USER_ID } from './trust/canaries';

/** One row per server instance (host + port), so instances sharing PostgreSQL keep their own. */
export function builtinIslandId(env: NodeJS.ProcessEnv = process.env): string {
	return `builtin-${hostname()}-${env.PORT ?? '3000'}`.replace(/[^a-zA-Z0-9._-]/g, '_').slice(0, 120);
}

export async function ensureBuiltinIsland(db: Queryable, token: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
	if (!/^isl_[A-Za-z0-9_-]{40,}$/.test(token)) throw new Error('BUILTIN_ISLAND_TOKEN must be an isl_ token');
	await ensureSystemUser(db);
	const id = builtinIslandId(env);
	// The operator's own machine: vouched, so its results are the references canaries and
	// disputes are judged against (docs/trust.md).
	const trust = { trust: 'trusted', vouched: true, trustedAt: sql`now()` } as const;
	await db
		.insert(islands)
		.values({ id, userId: SYSTEM_USER_ID, tokenHash: hashToken(token), name: 'Built-in Island', backend: 'node', builtin: true, ...trust })
		.onConflictDoUpdate({ target: islands.id, set: { tokenHash: hashToken(token), online: false, lastHeartbeatAt: sql`null`, ...trust } });
	return id;
}
