// `npm start`: builds when the sources are newer than the build, then serves.
import { ensureBuild } from './ensure-build.js';

ensureBuild();
await import('./server.js');
