// Where this browser's Island stands with the broker (probation, trusted, quarantined) and what
// it has in escrow, as its owner sees it on /island. It reads GET /api/islands (the owner's
// session) for the Island this browser registered, and takes the claim loop's refusals
// (quarantined, owner not verified) so the page can say what happened instead of showing a
// connection error.
import type { IslandView } from '../api/islands';
import type { Refusal } from './runner';

export type StandingKind = 'unknown' | 'unverified' | 'probation' | 'trusted' | 'quarantined';

export interface StandingOptions {
	islandId: string | null;
	/** The owner's identity check, as the page loaded it: Islands earn, so owners are verified. */
	verified: boolean;
	/** How long earnings wait in escrow (TRUST_ESCROW_WINDOW_HOURS on the server). */
	escrowWindowHours: number;
	fetch?: typeof fetch;
}

export class IslandStanding {
	#view = $state<IslandView | null>(null);
	#refusal = $state<Refusal | null>(null);
	#verified: boolean;
	#islandId: string | null;
	#fetch: typeof fetch;
	readonly escrowWindowHours: number;

	constructor(opts: StandingOptions) {
		this.#islandId = opts.islandId;
		this.#verified = opts.verified;
		this.escrowWindowHours = opts.escrowWindowHours;
		// Called as a plain function: the browser's fetch refuses any `this` but the window.
		this.#fetch = opts.fetch ?? ((input, init) => fetch(input, init));
	}

	get view(): IslandView | null {
		return this.#view;
	}

	get refusal(): Refusal | null {
		return this.#refusal;
	}

	kind = $derived.by((): StandingKind => {
		// A refusal is the broker's latest word; the view may be older than it.
		if (this.#refusal?.code === 'owner_not_verified') return 'unverified';
		if (this.#refusal?.code === 'island_quarantined') return 'quarantined';
		if (this.#view) return this.#view.trust;
		return this.#verified ? 'unknown' : 'unverified';
	});

	/** One line: what the Island may do now. */
	headline = $derived.by((): string | null => {
		const v = this.#view;
		switch (this.kind) {
			case 'unverified':
				return 'Verify your identity to run an Island: Islands earn credits, so their owners are verified like requesters.';
			case 'quarantined':
				return `Quarantined: ${v?.trust === 'quarantined' && v.quarantineReason ? v.quarantineReason : (this.#refusal?.message ?? 'its results could not be trusted')}`;
			case 'probation':
				return `On probation: ${v!.probation.passed} of ${v!.probation.needed} test jobs passed (it runs only test jobs until then).`;
			case 'trusted':
				return 'Trusted';
			default:
				return null;
		}
	});

	get escrowed(): number {
		return this.#view?.escrowed ?? 0;
	}

	/** Registration answered with a new Island: its standing is read from now on. */
	setIsland(id: string) {
		if (id === this.#islandId) return;
		this.#islandId = id;
		this.#view = null;
	}

	/** The claim loop was refused (or, with null, claims again). A quarantine's reason is re-read. */
	refused(refusal: Refusal | null) {
		this.#refusal = refusal;
		if (refusal?.code === 'owner_not_verified') this.#verified = false;
		if (refusal) void this.refresh();
	}

	/** Reads this Island's view; quietly keeps the last one if the broker can't be reached. */
	async refresh(): Promise<void> {
		const id = this.#islandId;
		if (!id) return;
		try {
			const res = await this.#fetch('/api/islands', { headers: { accept: 'application/json' } });
			if (!res.ok) return;
			const { islands } = (await res.json()) as { islands: IslandView[] };
			if (this.#islandId !== id) return;
			const mine = islands.find((i) => i.id === id) ?? null;
			this.#view = mine;
			// Reinstated since the refusal: the view is the newer word.
			if (mine && this.#refusal?.code === 'island_quarantined' && mine.trust !== 'quarantined') this.#refusal = null;
		} catch {
			/* offline: the last view stays */
		}
	}
}
