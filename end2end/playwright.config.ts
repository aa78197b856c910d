import { defineConfig } from '@playwright/test';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { execFileSync } from 'child_process';

// Each run starts the real `sentinel serve` on a free port with a fresh data directory. The
// port is chosen once by the main process (the OS hands out a free one for port 0) and
// inherited by the workers through the environment; SENTINEL_E2E_PORT overrides it.
if (!process.env.SENTINEL_E2E_PORT) {
  process.env.SENTINEL_E2E_PORT = execFileSync(process.execPath, [
    '-e',
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();});",
  ]).toString().trim();
}
const port = Number(process.env.SENTINEL_E2E_PORT);
// Created once by the main process; workers inherit it through the environment.
if (!process.env.SENTINEL_E2E_DATA_DIR) {
  process.env.SENTINEL_E2E_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'sentinel-e2e-'));
}
const dataDir = process.env.SENTINEL_E2E_DATA_DIR;
export const OPERATOR_TOKEN = 'e2e-operator-token';
const repoRoot = path.resolve(__dirname, '..');

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
      ],
    },
  },
  webServer: {
    command: `${repoRoot}/target/debug/sentinel serve --addr 127.0.0.1:${port}`,
    cwd: repoRoot,
    url: `http://127.0.0.1:${port}/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      SENTINEL_DATA_DIR: dataDir,
      SENTINEL_OPERATOR_TOKEN: OPERATOR_TOKEN,
      LEPTOS_SITE_ROOT: `${repoRoot}/target/site`,
      RUST_LOG: 'warn',
    },
  },
});
