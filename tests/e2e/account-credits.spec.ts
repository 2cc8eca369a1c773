import { expect, signUp, test } from './fixtures';

test('a new user signs up with 0 credits, buys a pack, and keeps the balance across log out and in', async ({ page }) => {
	const { email, password } = await signUp(page);

	await page.goto('/credits');
	await expect(page.getByRole('note')).toContainText('credits are virtual');
	await expect(page.getByTestId('balance-available')).toHaveText('0');

	await page.getByTestId('buy-creator').click();
	await expect(page.getByRole('status').filter({ hasText: 'Added 500 credits' })).toBeVisible();
	await expect(page.getByTestId('balance-available')).toHaveText('500');
	await expect(page.getByTestId('header-balance')).toHaveText('500');

	await page.goto('/account');
	await expect(page.getByTestId('account-email')).toHaveText(email);
	await expect(page.getByTestId('account-available')).toHaveText('500');
	await expect(page.getByRole('cell', { name: /Creator pack/ })).toBeVisible();

	await page.getByRole('button', { name: 'Log out' }).click();
	await page.waitForURL('**/login');
	await page.goto('/account');
	await expect(page).toHaveURL(/\/login\?next=%2Faccount/);

	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.waitForURL('**/account');
	await expect(page.getByTestId('account-available')).toHaveText('500');
});

test('a wrong password is refused with a message', async ({ page }) => {
	const { email } = await signUp(page);
	await page.getByRole('button', { name: 'Log out' }).click();
	await page.waitForURL('**/login');
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Password').fill('wrong password!');
	await page.getByRole('button', { name: 'Log in' }).click();
	await expect(page.getByRole('alert')).toHaveText('Email or password is wrong.');
});
