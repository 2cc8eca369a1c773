import { defineConfig } from '@playwright/test';

// Debian's Chromium, never a downloaded browser (downloads fail here). Each worker starts
// its own production server on a free port (tests/e2e/fixtures.ts).
export default defineConfig({
	testDir: 'tests/e2e',
	globalSetup: './tests/e2e/global-setup.ts',
	timeout: 120_000,
	expect: { timeout: 15_000 },
	workers: 1,
	reporter: [['list']],
	outputDir: 'test-results/playwright',
	use: {
		browserName: 'chromium',
		launchOptions: {
			executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
			args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
		},
		trace: 'retain-on-failure'
	}
});
