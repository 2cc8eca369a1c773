// Loaded into a test server (`--require`): counts how often anything enters an
// AsyncLocalStorage (run, enterWith), which on Node 20 turns on V8's promise hooks for the whole
// process. The test asks over the fork's IPC channel: { type: 'async-context-probe' }.
const { AsyncLocalStorage } = require('node:async_hooks');

let entered = 0;
for (const method of ['run', 'enterWith']) {
	const original = AsyncLocalStorage.prototype[method];
	AsyncLocalStorage.prototype[method] = function (...args) {
		entered++;
		return original.apply(this, args);
	};
}
process.on('message', (message) => {
	if (message?.type === 'async-context-probe') process.send?.({ type: 'async-context-probe', entered });
});
