// Honest and hostile Islands for the trust tests and the chaos run: each loops claim → answer
// with a picture chosen by its behaviour, until stopped.
import { encode, decode } from 'fast-png';
import type { ApiClient } from './client';
import { drawFor, TestIsland, type ClaimBody } from './test-island';

export type Behaviour = (claim: ClaimBody, seen: ClaimBody[]) => Uint8Array;

export const honest: Behaviour = (claim) => drawFor(claim.job.params);

/** (a) Another valid picture of the right size: the params of another prompt. */
export const otherPicture: Behaviour = (claim) => drawFor({ ...claim.job.params, prompt: `${claim.job.params.prompt} (made up)` });

/** (b) The honest picture with a 32×32 patch painted over, at a place that differs per job. */
export const patched: Behaviour = (claim) => {
	const png = decode(honest(claim, []));
	const data = new Uint8Array(png.data);
	const { width, height } = png;
	const x0 = (claim.job.params.seed % (width - 32)) | 0, y0 = ((claim.job.params.seed >>> 8) % (height - 32)) | 0;
	for (let y = y0; y < y0 + 32; y++) for (let x = x0; x < x0 + 32; x++) data.set([255 - data[(y * width + x) * 4], 0, 128, 255], (y * width + x) * 4);
	return encode({ width, height, data, channels: 4, depth: 8 });
};

/** (c) A result from another job of the same size, replayed (the first of its size it saw). */
export const replay: Behaviour = (claim, seen) => {
	const { width, height } = claim.job.params;
	const earlier = seen.find((c) => c.job.id !== claim.job.id && c.job.params.width === width && c.job.params.height === height);
	return earlier ? honest(earlier, []) : otherPicture(claim, seen);
};

/** (d) Honest for its first `honestFirst` jobs (probation), then lies on a `fraction` of them. */
export function sometimes(fraction: number, lie: Behaviour, honestFirst: number): Behaviour {
	let n = 0;
	return (claim, seen) => (n++ >= honestFirst && Math.random() < fraction ? lie(claim, seen) : honest(claim, seen));
}

export interface RunningIsland {
	island: TestIsland;
	claimed: ClaimBody[];
	/** Results the broker took (200), by job id, with whether this one was a lie. */
	answered: Map<string, { lied: boolean }>;
	stop(): Promise<void>;
}

/** Runs `island` with `behaviour` in the background; claims are cut short by stop(). */
export function run(island: TestIsland, behaviour: Behaviour): RunningIsland {
	const stopping = new AbortController();
	const claimed: ClaimBody[] = [];
	const answered = new Map<string, { lied: boolean }>();
	const loop = (async () => {
		while (!stopping.signal.aborted) {
			let claim: ClaimBody | null;
			try {
				claim = await island.claim({ signal: stopping.signal });
			} catch (err) {
				if (stopping.signal.aborted) return;
				// 403: quarantined (or the owner lost verification), 409: lease limit: stop or pause.
				if (String(err).includes('claim failed: 403')) return;
				await new Promise((r) => setTimeout(r, 200));
				continue;
			}
			if (!claim) continue;
			claimed.push(claim);
			const png = behaviour(claim, claimed);
			const lied = Buffer.compare(Buffer.from(png), Buffer.from(honest(claim, []))) !== 0;
			const r = await island.result(claim.job.id, claim.lease.token, png);
			if (r.status === 200) answered.set(claim.job.id, { lied });
		}
	})();
	return {
		island,
		claimed,
		answered,
		async stop() {
			stopping.abort();
			await loop.catch(() => {});
		}
	};
}

/** A verified owner's new Island (webgpu: a fast honest answer is not "too fast" for it). */
export async function islandOf(owner: ApiClient) {
	return TestIsland.register(owner, { backend: 'webgpu' });
}
