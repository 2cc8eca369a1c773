// Loaded into a benchmarked server (`node --expose-gc --import harness/gc-probe.mjs`), never
// into the product: on the bench's { type: 'gc-probe' } IPC message the server collects its
// garbage and answers with its memory, so a memory figure is live data, not garbage that V8
// had not collected yet (bench:longpoll).
process.on('message', (message) => {
	if (message?.type !== 'gc-probe') return;
	globalThis.gc?.();
	const { heapUsed, external } = process.memoryUsage();
	process.send?.({ type: 'gc-probe', collected: typeof globalThis.gc === 'function', heapUsed, external });
});
