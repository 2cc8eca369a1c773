// Reads a text/event-stream response event by event (what EventSource does, minus reconnects).
export interface SseEvent {
	id: string | null;
	event: string;
	data: any;
}

export class SseReader {
	#reader: ReadableStreamDefaultReader<Uint8Array>;
	#buffer = '';
	#decoder = new TextDecoder();
	comments = 0;

	constructor(readonly res: Response) {
		this.#reader = res.body!.getReader();
	}

	/** The next event, or null when the stream ended. */
	async next(): Promise<SseEvent | null> {
		for (;;) {
			const end = this.#buffer.indexOf('\n\n');
			if (end >= 0) {
				const block = this.#buffer.slice(0, end);
				this.#buffer = this.#buffer.slice(end + 2);
				const event: SseEvent = { id: null, event: 'message', data: '' };
				let hasData = false;
				for (const line of block.split('\n')) {
					if (line.startsWith(':')) this.comments++;
					else if (line.startsWith('id: ')) event.id = line.slice(4);
					else if (line.startsWith('event: ')) event.event = line.slice(7);
					else if (line.startsWith('data: ')) {
						event.data += line.slice(6);
						hasData = true;
					}
				}
				if (!hasData) continue;
				event.data = JSON.parse(event.data);
				return event;
			}
			const { done, value } = await this.#reader.read();
			if (done) return null;
			this.#buffer += this.#decoder.decode(value, { stream: true });
		}
	}

	/** Reads until an event of `type` (matching `where`) arrives; returns every event read. */
	async until(type: string, where: (e: SseEvent) => boolean = () => true): Promise<SseEvent[]> {
		const seen: SseEvent[] = [];
		for (;;) {
			const e = await this.next();
			if (!e) throw new Error(`stream ended before a ${type} event; saw ${seen.map((s) => s.event).join(', ')}`);
			seen.push(e);
			if (e.event === type && where(e)) return seen;
		}
	}

	close() {
		return this.#reader.cancel().catch(() => {});
	}
}
