import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * PGlite takes no cross-process lock, and two processes on one data directory corrupt it
 * silently. So the app holds a lock file and refuses to start beside another live process.
 */
export function lockDataDir(dir: string): () => void {
	mkdirSync(dir, { recursive: true });
	const path = join(dir, 'archipelago.lock');
	for (let attempt = 0; attempt < 2; attempt++) {
		try {
			const fd = openSync(path, 'wx');
			writeSync(fd, String(process.pid));
			closeSync(fd);
			return () => rmSync(path, { force: true });
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
			const owner = Number(readFileSync(path, 'utf8'));
			if (owner && owner !== process.pid && isAlive(owner)) {
				throw new Error(
					`The database directory ${dir} is in use by process ${owner}. ` +
						`Only one server may use a PGlite directory; stop it, set DATA_DIR to another folder, ` +
						`or set DATABASE_URL to share a PostgreSQL database between instances.`
				);
			}
			// The previous owner died without cleaning up (e.g. SIGKILL): the lock is stale.
			rmSync(path, { force: true });
		}
	}
	throw new Error(`could not lock ${dir}`);
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === 'EPERM';
	}
}
