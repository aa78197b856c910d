import { test, expect } from '@playwright/test';

test('home page is server-rendered, hydrates, and lists scenarios from a server function', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  // Server-rendered rows are there before (and after) hydration.
  const options = page.getByTestId('scenario-select').locator('option');
  expect(await options.count()).toBeGreaterThanOrEqual(10);
  await expect(options.filter({ hasText: 'config_regression_01' })).toHaveCount(1);
  // The WASM bundle took over the page.
  await expect(page.getByTestId('hydrated')).toHaveAttribute('data-hydrated', 'true');
  expect(errors).toEqual([]);
});
