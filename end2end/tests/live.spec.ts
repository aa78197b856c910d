import { test, expect, Page } from '@playwright/test';

const TOKEN = 'e2e-operator-token';

async function login(page: Page) {
  await page.goto(`/login?token=${TOKEN}`);
}

async function fire(page: Page, scenario: string): Promise<string> {
  await page.goto('/');
  await expect(page.getByTestId('hydrated')).toHaveAttribute('data-hydrated', 'true');
  await page.getByTestId('scenario-select').selectOption(scenario);
  // The server function answers with the new incident's id; wait for the page to show it
  // (the header may still show the previous incident for a moment).
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/fire_scenario') && r.status() === 200),
    page.getByTestId('fire').click(),
  ]);
  const id = JSON.parse(await response.text()) as string;
  expect(id).toMatch(/^inc-/);
  await expect(page.getByTestId('incident-id')).toHaveText(id);
  return id;
}

test('fire → cards light up in order → approval overlay → approve → resolution with the culprit', async ({ page }) => {
  await login(page);
  const incident = await fire(page, 'bad_deploy_01');
  expect(incident).toMatch(/^inc-/);
  // Every specialist finished before the gate; remediation waits for a human.
  for (const role of ['triage', 'log_analyst', 'deploy_correlator']) {
    await expect(page.getByTestId(`card-${role}`)).toHaveAttribute('data-status', 'done');
  }
  await expect(page.getByTestId('card-remediation')).toHaveAttribute('data-status', 'awaiting approval');
  // The feed shows the order: triage started before the log analyst, which started before the correlator.
  const feed = await page.getByTestId('event-feed').innerText();
  const t = feed.indexOf('Triage'), l = feed.indexOf('Log Analyst'), d = feed.indexOf('Deploy Correlator');
  expect(t).toBeGreaterThanOrEqual(0);
  expect(l).toBeGreaterThan(t);
  expect(d).toBeGreaterThan(l);
  const overlay = page.getByTestId('approval-overlay');
  await expect(overlay).toBeVisible();
  await expect(page.getByTestId('approval-action')).toHaveText('rollback');
  await expect(page.getByTestId('approval-target')).toHaveText('deploy-gw-4812');
  await page.getByTestId('approve').click();
  await expect(overlay).toBeHidden();
  await expect(page.getByTestId('resolution')).toBeVisible();
  await expect(page.getByTestId('culprit')).toHaveText('deploy-gw-4812');
  await expect(page.getByTestId('approval-outcome')).toHaveText('approved');
  await expect(page.getByTestId('card-comms')).toHaveAttribute('data-status', 'done');
  await expect(page.getByTestId('comms')).toContainText('Root Cause');
  await expect(page.getByTestId('status-badge').first()).toHaveText('resolved');
  if (process.env.SENTINEL_SCREENSHOT) {
    await page.setViewportSize({ width: 1440, height: 1100 });
    await page.screenshot({ path: process.env.SENTINEL_SCREENSHOT, fullPage: false });
  }
});

test('reject with a comment ends escalated', async ({ page }) => {
  await login(page);
  await fire(page, 'memory_leak_01');
  await expect(page.getByTestId('approval-overlay')).toBeVisible();
  // Reject is disabled until a reason is given.
  await expect(page.getByTestId('reject')).toBeDisabled();
  await page.getByTestId('approval-comment').fill('heap dump needed before any rollback');
  await page.getByTestId('reject').click();
  await expect(page.getByTestId('approval-overlay')).toBeHidden();
  await expect(page.getByTestId('approval-outcome')).toHaveText('rejected');
  await expect(page.getByTestId('status-badge').first()).toHaveText('escalated');
});

test('reload mid-incident shows every earlier event, and a second browser sees the same overlay close', async ({ page, browser }) => {
  await login(page);
  const incident = await fire(page, 'db_pool_01');
  await expect(page.getByTestId('approval-overlay')).toBeVisible();
  const before = await page.locator('.feed-item').count();
  expect(before).toBeGreaterThan(10);
  await page.reload();
  await expect(page.getByTestId('incident-id')).toHaveText(incident);
  await expect(page.locator('.feed-item')).toHaveCount(before);
  await expect(page.getByTestId('approval-overlay')).toBeVisible();

  // A second, unauthenticated dashboard watching the same incident.
  const other = await browser.newContext();
  const p2 = await other.newPage();
  await p2.goto(`/?incident=${incident}`);
  await expect(p2.getByTestId('hydrated')).toHaveAttribute('data-hydrated', 'true');
  await expect(p2.getByTestId('approval-overlay')).toBeVisible();
  await expect(p2.getByTestId('login-hint')).toBeVisible();
  // The operator approves in the first browser; the overlay closes in both.
  await page.getByTestId('approve').click();
  await expect(page.getByTestId('approval-overlay')).toBeHidden();
  await expect(p2.getByTestId('approval-overlay')).toBeHidden();
  await expect(p2.getByTestId('approval-outcome')).toHaveText('approved');
  await other.close();
});

test('unauthenticated approval is refused and changes nothing', async ({ page, request }) => {
  await login(page);
  const incident = await fire(page, 'db_pool_02');
  await expect(page.getByTestId('approval-overlay')).toBeVisible();
  // From the API without a token.
  const res = await request.post(`/api/incidents/${incident}/approval`, { data: { decision: 'approve', comment: '' } });
  expect(res.status()).toBe(401);
  expect((await res.json()).error).toContain('operator');
  // From a browser without a session.
  const anon = await page.context().browser()!.newContext();
  const p2 = await anon.newPage();
  await p2.goto(`/?incident=${incident}`);
  await expect(p2.getByTestId('hydrated')).toHaveAttribute('data-hydrated', 'true');
  await p2.getByTestId('approve').click();
  await expect(p2.getByTestId('approval-error')).toContainText('log in');
  await anon.close();
  const state = await (await request.get(`/api/incidents/${incident}`)).json();
  expect(state.status).toBe('awaiting_approval');
  // With the bearer token it goes through.
  const ok = await request.post(`/api/incidents/${incident}/approval`, {
    data: { decision: 'approve', comment: 'api' },
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  expect(ok.status()).toBe(200);
  expect((await ok.json()).status).toBe('resolved');
});

test('the history page opens a past incident with its timeline and replay', async ({ page }) => {
  await page.goto('/incidents');
  await expect(page.getByTestId('incident-row').first()).toBeVisible();
  const first = page.getByTestId('incident-row').first().locator('a').first();
  const id = (await first.textContent())!.trim();
  await first.click();
  await expect(page).toHaveURL(new RegExp(`/incidents/${id}$`));
  await expect(page.getByTestId('incident-page')).toBeVisible();
  await expect(page.getByTestId('resolution')).toBeVisible();
  await expect(page.locator('.feed-item').first()).toBeVisible();
  // Replay: step back to the start and the cards go idle.
  // The replay is an island: its buttons work once it has hydrated.
  await expect(page.getByTestId('replay')).toHaveAttribute('data-hydrated', 'true');
  await page.getByTestId('replay').getByRole('button', { name: 'First step' }).click();
  await expect(page.getByTestId('replay-step')).toHaveText(/^step 0 of \d+$/);
  await expect(page.getByTestId('card-triage')).toHaveAttribute('data-status', 'idle');
  // Filters narrow the list.
  await page.goto('/incidents?status=resolved');
  const statuses = await page.getByTestId('status-badge').allInnerTexts();
  expect(statuses.length).toBeGreaterThan(0);
  expect(statuses.every((s) => s === 'resolved')).toBe(true);
});

test('settings show models per role and key presence, never a key', async ({ page }) => {
  await page.goto('/settings');
  await expect(page.getByTestId('role-row')).toHaveCount(6);
  await expect(page.getByTestId('settings')).toContainText('builtin/sentinel-engine');
  await expect(page.getByTestId('provider-row').filter({ hasText: 'anthropic' })).toContainText('ANTHROPIC_API_KEY');
});

test('an alert arriving on a webhook appears live on an open dashboard', async ({ page, request }) => {
  await page.goto('/');
  await expect(page.getByTestId('hydrated')).toHaveAttribute('data-hydrated', 'true');
  // A real sender's alert, not a fired scenario: a service no scenario uses.
  const service = `e2e-webhook-${Date.now()}`;
  const res = await request.post('/webhooks/alert', {
    data: { source: 'grafana', service, metric: 'error_rate', threshold: 0.05, current_value: 0.4, severity: 'critical' },
  });
  expect(res.status()).toBe(202);
  const { incident_id } = await res.json();
  // The open page switches to it without a reload, and its agents run on screen.
  await expect(page.getByTestId('incident-id')).toHaveText(incident_id);
  await expect(page.getByTestId('card-triage')).toHaveAttribute('data-status', 'done');
});
