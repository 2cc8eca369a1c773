import { ensureBuild } from '../../server/ensure-build.js';

export default function globalSetup() {
	ensureBuild({ quiet: true });
}
