import { test, expect } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const repoRoot = path.resolve(__dirname, '..', '..');

test('the eval page shows the same numbers as the Markdown report', async ({ page }) => {
  const out = fs.mkdtempSync(path.join(process.env.SENTINEL_E2E_DATA_DIR!, 'eval-'));
  // Run a small evaluation into the server's own database.
  execFileSync(`${repoRoot}/target/debug/sentinel`, ['eval', '--scenarios', 'bad_deploy_02', 'downstream_outage_01', '--out', out], {
    cwd: repoRoot,
    env: { ...process.env, SENTINEL_DATA_DIR: process.env.SENTINEL_E2E_DATA_DIR!, RUST_LOG: 'error' },
    stdio: 'pipe',
  });
  const report = JSON.parse(fs.readFileSync(path.join(out, 'eval_report.json'), 'utf8'));
  const md = fs.readFileSync(path.join(out, 'eval_report.md'), 'utf8');

  await page.goto('/eval');
  // Solved and harmful lead, per suite, and agree with the report.
  const solved = `${report.summary.solved}/${report.summary.scenarios_run}`;
  await expect(page.getByTestId('eval-solved')).toHaveText(solved);
  await expect(page.getByTestId('eval-harmful')).toHaveText(String(report.summary.harmful));
  await expect(page.getByTestId('eval-suite-row')).toHaveCount(report.summary.suites.length);
  expect(md).toContain(`| **all** | ${report.summary.scenarios_run} | **${report.summary.solved}** | **${report.summary.harmful}** |`);
  const avg = report.summary.avg_total_score.toFixed(2);
  await expect(page.getByTestId('eval-avg')).toHaveText(avg);
  expect(md).toContain(`${avg} / 5`);
  const rate = `${Math.round(report.summary.pass_rate * 100)}%`;
  await expect(page.getByTestId('eval-pass-rate')).toHaveText(rate);
  expect(md).toContain(`| ${rate} |`);
  await expect(page.getByTestId('eval-row')).toHaveCount(2);
  for (const r of report.results) {
    const row = page.getByTestId('eval-row').filter({ hasText: r.scenario_id });
    await expect(row).toContainText(r.total_score.toFixed(2));
    expect(md).toContain(`| ${r.scenario_id} | ${r.total_score.toFixed(2)} |`);
  }
  await expect(page.getByTestId('dimension-chart').locator('rect.bar')).toHaveCount(6);
  await expect(page.getByTestId('history-bar')).toHaveCount(1);
  // Click a scenario: the judge's reasons and its trajectory.
  // Every row's reasons are in the page, hidden until their row is clicked.
  const open = page.locator('[data-testid=eval-reasons]:visible');
  await expect(open).toHaveCount(0);
  await expect(page.getByTestId('toggle-rows')).toHaveAttribute('data-hydrated', 'true');
  const row = page.getByTestId('eval-row').filter({ hasText: 'downstream_outage_01' });
  await row.click();
  await expect(open).toHaveCount(1);
  await expect(open).toContainText('remediation_safety');
  await expect(open.getByTestId('eval-trajectory')).toContainText('escalate');
  await expect(open.getByTestId('eval-trajectory')).toContainText('fetch_logs');
  // A second click hides them again.
  await row.click();
  await expect(open).toHaveCount(0);
});

test('an operator starts an evaluation from the page and watches it to the end', async ({ page, request }) => {
  // Ten scenarios on a debug build on a loaded machine: room beyond the default minute.
  test.setTimeout(240_000);
  // Logged out, the Run button is disabled and says why.
  await page.goto('/eval');
  await expect(page.getByTestId('eval-run-panel')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('eval-start')).toBeDisabled();
  await expect(page.getByTestId('eval-run-panel')).toContainText('Log in as an operator');

  const before = await (await request.get('/api/eval-report')).json().catch(() => null);
  await page.goto('/login?token=e2e-operator-token');
  await page.goto('/eval');
  await expect(page.getByTestId('eval-run-panel')).toHaveAttribute('data-hydrated', 'true');
  const choices = page.getByTestId('eval-suite-choice');
  await expect(choices).toHaveCount(1); // the default: public = the scenarios directory
  await expect(choices.first()).toBeChecked();
  // The history has rendered (or says there is none) before its bars are counted.
  await expect(page.getByTestId('history-chart').or(page.getByTestId('eval-empty'))).toBeVisible();
  const bars = await page.getByTestId('history-bar').count();

  await page.getByTestId('eval-start').click();
  const progress = page.getByTestId('eval-progress');
  await expect(progress).toBeVisible();
  // The bar fills, scenario rows appear as they finish, and the run ends finished.
  await expect(progress).toHaveAttribute('data-state', 'finished', { timeout: 200_000 });
  const total = (await request.get('/api/scenarios').then((r) => r.json())).length;
  await expect(page.getByTestId('eval-progress-count')).toHaveText(` ${total}/${total} `);
  await expect(progress.locator('.recent li')).toHaveCount(Math.min(total, 12));

  // The page reloaded the history: the new run is the newest, and its numbers are the report's.
  const after = await (await request.get('/api/eval-report')).json();
  expect(after.generated_at).not.toBe(before?.generated_at);
  await expect(page.getByTestId('history-bar')).toHaveCount(bars + 1);
  await expect(page.getByTestId('eval-solved')).toHaveText(`${after.summary.solved}/${after.summary.scenarios_run}`);
  await expect(page.getByTestId('eval-harmful')).toHaveText(String(after.summary.harmful));
  await expect(page.getByTestId('eval-suite-row')).toHaveCount(1);
  await expect(page.getByTestId('eval-suite-row').first()).toContainText('public');
  await expect(page.getByTestId('eval-row')).toHaveCount(total);
  // Each scenario opens its trajectory.
  await expect(page.getByTestId('toggle-rows')).toHaveAttribute('data-hydrated', 'true');
  await page.getByTestId('eval-row').first().click();
  await expect(page.locator('[data-testid=eval-trajectory]:visible')).toContainText('triage:');
});
