// `npm start`: builds when the sources are newer than the build, then serves (with one
// built-in Island unless BUILTIN_ISLANDS=0). Needs production dependencies only once built.
import { ensureBuild } from './ensure-build.js';
import { prepareBuiltinIsland } from './builtin-island.js';

ensureBuild();
// Before the server loads: the app's init hook registers the Island's token.
const island = prepareBuiltinIsland();
const { onStopSignal } = await import('./index.js');
if (island) {
	onStopSignal(island.stop);
	island.start();
}
