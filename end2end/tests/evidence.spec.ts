import { test, expect } from '@playwright/test';

const TOKEN = 'e2e-operator-token';

test('the incident page shows the ranked hypotheses and the changes before the alert', async ({ page, request }) => {
  // Fire through the API, approve the rollback, then open the finished incident.
  const fired = await request.post('/api/scenarios/bad_deploy_01/fire', { headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(fired.status()).toBe(202);
  const { incident_id } = await fired.json();
  await expect.poll(async () => (await (await request.get(`/api/incidents/${incident_id}`)).json()).status, { timeout: 30_000 })
    .toBe('awaiting_approval');
  const ok = await request.post(`/api/incidents/${incident_id}/approval`, {
    data: { decision: 'approve', comment: 'e2e' },
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  expect(ok.status()).toBe(200);
  await page.goto(`/incidents/${incident_id}`);
  const hyps = page.getByTestId('hypothesis');
  expect(await hyps.count()).toBeGreaterThanOrEqual(2);
  await expect(hyps.first()).toContainText('deploy-gw-4812');
  await expect(page.getByTestId('hypotheses')).toContainText('For');
  // Every deploy and change the correlator listed, in time order, the culprit marked, with
  // the first error and the alert.
  const changes = page.getByTestId('incident-change');
  expect(await changes.count()).toBeGreaterThanOrEqual(3);
  await expect(page.getByTestId('culprit-mark')).toHaveCount(1);
  await expect(changes.filter({ has: page.getByTestId('culprit-mark') })).toContainText('deploy-gw-4812');
  await expect(page.getByTestId('incident-moment').filter({ hasText: 'first error' })).toHaveCount(1);
  await expect(page.getByTestId('incident-moment').filter({ hasText: 'alert fired' })).toHaveCount(1);
});

test('a change posted to /webhooks/change appears in the changes list', async ({ page, request }) => {
  const id = `e2e-chg-${Date.now()}`;
  const res = await request.post('/webhooks/change', {
    data: {
      id, service: 'checkout-e2e', kind: 'config', ts: new Date(Date.now() - 60_000).toISOString(),
      author: 'e2e', description: 'checkout.http.read_timeout_ms 3000 -> 2500',
    },
  });
  expect(res.status()).toBe(202);
  await page.goto('/changes');
  await expect(page.getByTestId('changes-table')).toContainText(id);
  // Filtered to another service it is gone; to its own it is there.
  await page.goto('/changes?service=nobody-else');
  await expect(page.getByTestId('changes-empty')).toBeVisible();
  await page.goto('/changes?service=checkout-e2e');
  await expect(page.getByTestId('change-row')).toHaveCount(1);
  await expect(page.getByTestId('change-row')).toContainText('read_timeout_ms');
});

test('the incident page charts the metrics with markers and offers the postmortem draft', async ({ page, request }) => {
  const fired = await request.post('/api/scenarios/bad_deploy_01/fire', { headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(fired.status()).toBe(202);
  const { incident_id } = await fired.json();
  await expect.poll(async () => (await (await request.get(`/api/incidents/${incident_id}`)).json()).status, { timeout: 30_000 })
    .toBe('awaiting_approval');
  const ok = await request.post(`/api/incidents/${incident_id}/approval`, {
    data: { decision: 'approve', comment: 'e2e charts' },
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  expect(ok.status()).toBe(200);
  await page.goto(`/incidents/${incident_id}`);
  // Every series the agents read is a chart; the deploy the diagnosis blames is a marker on it,
  // as are the first error and the alert; hovering shows values.
  const charts = page.getByTestId('metric-chart');
  expect(await charts.count()).toBeGreaterThanOrEqual(1);
  const culprit = page.locator('[data-testid="chart-marker"].culprit');
  expect(await culprit.count()).toBeGreaterThanOrEqual(1);
  await expect(culprit.first().locator('title')).toContainText('deploy-gw-4812');
  expect(await page.locator('[data-testid="chart-marker"][data-kind="alert"]').count()).toBeGreaterThanOrEqual(1);
  await expect(charts.first().locator('circle.point title').first()).toContainText('—');
  if (process.env.SENTINEL_SCREENSHOT_INCIDENT) {
    await page.setViewportSize({ width: 1440, height: 1400 });
    await charts.first().scrollIntoViewIfNeeded();
    await page.getByTestId('metric-charts').screenshot({ path: process.env.SENTINEL_SCREENSHOT_INCIDENT });
  }
  // The log signatures the analyst read, with a sample line.
  expect(await page.getByTestId('log-signature').count()).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId('log-signatures')).toContainText('AuthMiddleware');
  // Who decided, by name.
  await expect(page.getByTestId('decided-by').first()).toHaveText('operator (api token)');
  // The postmortem draft downloads as Markdown.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('postmortem-download').click(),
  ]);
  expect(download.suggestedFilename()).toBe(`postmortem-${incident_id}.md`);
  const path = await download.path();
  const text = require('fs').readFileSync(path, 'utf8');
  expect(text).toContain('# Postmortem (draft)');
  expect(text).toContain('deploy-gw-4812');
  expect(text).toContain('approved by operator (api token)');
});
