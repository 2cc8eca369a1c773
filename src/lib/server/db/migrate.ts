import { createHash } from 'node:crypto';
import type { MigrationMeta } from 'drizzle-orm/migrator';

// Bundled at build time: `vite build` doesn't copy drizzle/, and a folder path would
// depend on the working directory the server was started from.
const sqlFiles = import.meta.glob('../../../../drizzle/*.sql', {
	query: '?raw',
	import: 'default',
	eager: true
}) as Record<string, string>;
const journal = import.meta.glob('../../../../drizzle/meta/_journal.json', {
	import: 'default',
	eager: true
}) as Record<string, { entries: { tag: string; when: number; breakpoints: boolean }[] }>;

/** The same records drizzle's file-based migrators build, so the `__drizzle_migrations` rows match. */
export function bundledMigrations(): MigrationMeta[] {
	const entries = Object.values(journal)[0]?.entries ?? [];
	return entries.map((entry) => {
		const file = Object.entries(sqlFiles).find(([path]) => path.endsWith(`/${entry.tag}.sql`));
		if (!file) throw new Error(`migration ${entry.tag}.sql is missing from the bundle`);
		const query = file[1];
		return {
			sql: query.split('--> statement-breakpoint'),
			bps: entry.breakpoints,
			folderMillis: entry.when,
			hash: createHash('sha256').update(query).digest('hex')
		};
	});
}
