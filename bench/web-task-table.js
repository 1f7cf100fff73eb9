#!/usr/bin/env node
/* global window, document, MutationObserver, requestAnimationFrame -- these run inside the page */
// Browser benchmark: a job with 100,000 tasks on a real manager, opened in Debian's Chromium.
// Prints JSON: time to the first rendered task row (target under 1 s), scroll frame times, and
// the time a sort by name takes. Needs `npm run build` (manager and web) and /usr/bin/chromium.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const MANAGER_MAIN = path.join(ROOT, 'packages/manager/dist/main.js');
const CHROMIUM = process.env.FARM_CHROMIUM || '/usr/bin/chromium';
const TASKS = Number(process.env.FARM_BENCH_TASKS || 100000);
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function skip(reason) {
  process.stdout.write(`${JSON.stringify({ benchmark: 'web-task-table', skipped: reason })}\n`);
  process.exit(0);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  if (!fs.existsSync(CHROMIUM)) skip(`Chromium is not installed at ${CHROMIUM}`);
  if (!fs.existsSync(MANAGER_MAIN)) skip('the manager is not built (npm run build)');
  if (!fs.existsSync(path.join(ROOT, 'packages/web/dist/index.html')))
    skip('the web app is not built');
  const { chromium } = require('playwright-core');

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-web-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const manager = spawn(
    process.execPath,
    [MANAGER_MAIN, '--port', String(port), '--data-dir', dataDir, '--no-discovery'],
    {
      env: { ...process.env, FARM_LOCAL_WORKER: 'false', FARM_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  let browser;
  try {
    await waitFor(
      'the manager',
      async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined),
      60000,
    );
    const tokenFile = path.join(dataDir, 'admin-token');
    const token = await waitFor(
      'the admin token',
      async () =>
        fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8').trim() : undefined,
      10000,
    );
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };

    const submitStart = performance.now();
    const submitted = await fetch(`${url}/api/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: `web bench ${TASKS} tasks`,
        type: 'echo-sleep-test',
        settings: { message: 'bench', sleep_duration_seconds: 1, sleep_repeats: TASKS - 1 },
      }),
    });
    if (!submitted.ok)
      throw new Error(`submit failed: ${submitted.status} ${await submitted.text()}`);
    const job = await submitted.json();
    const submitMs = performance.now() - submitStart;

    const compactStart = performance.now();
    const compactResponse = await fetch(`${url}/api/v1/jobs/${job.id}/tasks/compact`, { headers });
    const compactText = await compactResponse.text();
    // What travelled: the manager compresses large lists when the client accepts it.
    const compactEncoding = compactResponse.headers.get('content-encoding') ?? 'identity';
    const compactMs = performance.now() - compactStart;

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    await page.addInitScript((value) => {
      window.localStorage.setItem('farm.apiToken', value);
      // Time from navigation start to the first task row in the DOM.
      new MutationObserver((_, observer) => {
        if (document.querySelector('.task-row[data-task-id]')) {
          window.__firstTaskRowMs = performance.now();
          observer.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    }, token);
    // Warm the browser cache for the app's own files, as a returning user has it.
    await page.goto(`${url}/jobs`);
    await page.waitForSelector('.jobs-table');

    const firstRows = [];
    const allRows = [];
    for (let run = 0; run < 3; run += 1) {
      await page.goto(`${url}/jobs/${job.id}`);
      await page.waitForSelector('.task-row[data-task-id]', { timeout: 60000 });
      // The first page of rows comes first; wait for the full list behind it too.
      await page.waitForFunction(
        () =>
          performance.getEntriesByType('resource').some((e) => e.name.includes('/tasks/compact')),
        undefined,
        { timeout: 60000 },
      );
      const timing = await page.evaluate(() => {
        const entry = performance
          .getEntriesByType('resource')
          .find((e) => e.name.includes('/tasks/compact'));
        return { firstRow: window.__firstTaskRowMs, responseEnd: entry ? entry.responseEnd : null };
      });
      firstRows.push(timing.firstRow);
      allRows.push(timing.responseEnd);
    }
    const rowsInDom = await page.locator('.task-row[data-task-id]').count();

    // Scroll the way a person does (steady wheel-like steps), then jump around.
    const scroll = await page.evaluate(async () => {
      const el = document.querySelector('[data-testid=task-scroll]');
      const frames = [];
      let last = performance.now();
      const step = (fn) =>
        new Promise((resolve) =>
          requestAnimationFrame((now) => {
            frames.push(now - last);
            last = now;
            fn();
            resolve();
          }),
        );
      // scrollBy/scrollTo do not read layout back, as a wheel or a scrollbar drag does not.
      const height = el.scrollHeight;
      for (let i = 0; i < 300; i += 1) await step(() => el.scrollBy(0, 120));
      for (let i = 0; i < 60; i += 1) await step(() => el.scrollTo(0, Math.random() * height));
      return { frames: frames.slice(1), scrollHeight: el.scrollHeight };
    });
    const sortedFrames = [...scroll.frames].sort((a, b) => a - b);

    const sortStart = Date.now();
    await page.click('.task-head button:has-text("Name")');
    await page.waitForSelector('.task-head [aria-sort=ascending] >> text=Name');
    await page.evaluate(
      () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
    );
    const sortByNameMs = Date.now() - sortStart;

    const round = (n) => (n === null || n === undefined ? null : Math.round(n * 10) / 10);
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: 'web-task-table',
          tasks: TASKS,
          submitMs: round(submitMs),
          compactListMs: round(compactMs),
          compactListBytes: compactText.length,
          compactListEncoding: compactEncoding,
          firstTaskRowMs: firstRows.map(round),
          firstTaskRowTargetMs: 1000,
          allTasksLoadedMs: allRows.map(round),
          loadAverage: os.loadavg().map((n) => Math.round(n * 10) / 10),
          rowsInDom,
          scrollFrames: scroll.frames.length,
          scrollFrameMs: {
            p50: round(percentile(sortedFrames, 50)),
            p95: round(percentile(sortedFrames, 95)),
            p99: round(percentile(sortedFrames, 99)),
            max: round(sortedFrames[sortedFrames.length - 1]),
            over50ms: sortedFrames.filter((f) => f > 50).length,
          },
          sortByNameMs,
        },
        null,
        0,
      )}\n`,
    );
  } finally {
    if (browser) await browser.close();
    manager.kill('SIGTERM');
    await new Promise((r) => manager.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
