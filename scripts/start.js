// `npm start`: builds when the sources are newer than the build, then serves (with one
// built-in Island unless BUILTIN_ISLANDS=0).
import { ensureBuild } from './ensure-build.js';
import { prepareBuiltinIsland } from './builtin-island.js';

ensureBuild();
const island = prepareBuiltinIsland();
await import('./server.js');
island?.superviseShutdown();
island?.start();
