// Keeps the screen on while the Island works, where the browser offers it. The browser drops
// the lock whenever the tab is hidden, so it is taken again when the tab comes back.

interface SentinelLike {
	released: boolean;
	release(): Promise<void>;
	addEventListener(type: 'release', fn: () => void): void;
}

export type WakeLockState = 'unsupported' | 'off' | 'on' | 'refused';

export class WakeLock {
	state = $state<WakeLockState>('off');
	#sentinel: SentinelLike | null = null;
	#wanted = false;
	#onVisible = () => {
		if (this.#wanted && document.visibilityState === 'visible') void this.#take();
	};

	constructor() {
		if (typeof navigator === 'undefined' || !('wakeLock' in navigator)) this.state = 'unsupported';
	}

	async acquire() {
		if (this.state === 'unsupported') return;
		this.#wanted = true;
		document.addEventListener('visibilitychange', this.#onVisible);
		await this.#take();
	}

	async release() {
		this.#wanted = false;
		document.removeEventListener('visibilitychange', this.#onVisible);
		const s = this.#sentinel;
		this.#sentinel = null;
		if (s && !s.released) await s.release().catch(() => {});
		if (this.state !== 'unsupported') this.state = 'off';
	}

	async #take() {
		if (this.#sentinel && !this.#sentinel.released) return;
		try {
			const s = (await (navigator as Navigator & { wakeLock: { request(t: 'screen'): Promise<SentinelLike> } }).wakeLock.request('screen')) as SentinelLike;
			this.#sentinel = s;
			this.state = 'on';
			s.addEventListener('release', () => {
				if (this.#sentinel === s) this.state = this.#wanted ? 'refused' : 'off';
			});
		} catch {
			// Refused (hidden tab, battery saver, policy): the Island works anyway.
			this.state = 'refused';
		}
	}
}
