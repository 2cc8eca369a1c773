import { ensureBuild } from '../../scripts/ensure-build.js';

export default function globalSetup() {
	ensureBuild({ quiet: true });
}
