// (b) The WebGPU path: Chromium with --enable-unsafe-webgpu offers a SwiftShader (software
// Vulkan) adapter here. It is 100–250× slower than WASM, so this runs the smallest size, one
// step, no guidance: enough to show the WebGPU execution provider made a valid image.
import { decode } from 'fast-png';
import { expect, openIsland, test } from './island-fixtures';

test.use({
	launchOptions: {
		executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--enable-unsafe-webgpu', '--headless=new']
	}
});

test('the WebGPU execution provider makes a valid image at the smallest size', async ({ page }) => {
	test.setTimeout(300_000);
	await openIsland(page, 'webgpu');
	await expect(page.getByTestId('webgpu-summary')).toContainText('WebGPU adapter found');
	await expect(page.getByTestId('webgpu-adapter')).toContainText('swiftshader');
	// A software adapter is detected as such and WASM suggested; the volunteer may still pick WebGPU.
	await expect(page.getByTestId('webgpu-summary')).toContainText('renders in software');

	await page.getByLabel('Steps').fill('1');
	await page.getByLabel('Guidance').fill('1');
	await page.getByLabel('Size').selectOption('256');
	await page.getByRole('button', { name: 'Make a test image' }).click();
	const result = page.getByTestId('test-result');
	await expect(result.or(page.getByRole('alert').first())).toBeVisible({ timeout: 240_000 });
	await expect(result).toBeVisible();

	// The sessions were created with ['webgpu'] alone (which throws without an adapter), so
	// this is the EP that ran, not a silent fallback.
	await expect(result).toHaveAttribute('data-backend', 'webgpu');
	await expect(page.getByTestId('backend-name')).toHaveText('WebGPU');
	await expect(page.getByTestId('backend-running')).toContainText('swiftshader');
	await expect(page.getByTestId('backend-reason')).toHaveCount(0);

	const src = await page.getByTestId('test-image').getAttribute('src');
	const bytes = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url!)).arrayBuffer())), src);
	const png = decode(new Uint8Array(bytes));
	expect([png.width, png.height]).toEqual([256, 256]);
	// A real picture, not a blank or NaN-filled buffer: its pixels vary.
	const values = new Set<number>();
	for (let i = 0; i < png.data.length; i += 4 * 97) values.add(png.data[i]);
	expect(values.size).toBeGreaterThan(3);
});
