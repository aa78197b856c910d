import { test, expect } from '@playwright/test';

test('home page is server-rendered, hydrates, and lists scenarios from a server function', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  // Server-rendered rows are there before (and after) hydration.
  await expect(page.getByTestId('scenario-row').first()).toBeVisible();
  expect(await page.getByTestId('scenario-row').count()).toBeGreaterThanOrEqual(10);
  // The WASM bundle took over the page.
  await expect(page.getByTestId('hydrated')).toHaveAttribute('data-hydrated', 'true');
  expect(errors).toEqual([]);
});
