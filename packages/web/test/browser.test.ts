import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  REPO_ROOT,
  WORKER_MAIN,
  browserTestsUnavailable,
  startTestFarm,
  type TestFarm,
} from './support/farm-processes';

// Real processes (manager, worker, Chromium): the whole story an artist goes through in the web app.
const unavailable = browserTestsUnavailable();
if (unavailable) console.log(`Skipping the web app's browser tests: ${unavailable}.`);
const describeBrowser = unavailable ? describe.skip : describe;
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts/web');

jest.setTimeout(180_000);

describeBrowser('the web app against a real manager and worker', () => {
  let farm: TestFarm;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const hasWorker = fs.existsSync(WORKER_MAIN);

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    farm = await startTestFarm();
    if (hasWorker) await farm.startWorker('web-test-worker');
    else console.log('No worker build: the tests that need a running worker are skipped.');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await farm?.stop();
  });

  async function shot(name: string) {
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
  }

  it('refuses a wrong password, then asks for the API token and signs in with the right one', async () => {
    await page.goto(`${farm.url}/`);
    await page.fill('#user-name', 'nobody');
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    await page.waitForSelector('.login .error-line[role=alert]');
    await page.click('text=Use an API token instead');
    await page.fill('#token', 'not-a-real-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('.login .error-line[role=alert]');
    await page.fill('#token', farm.token);
    await page.click('button[type=submit]');
    await page.waitForSelector('h1#jobs-title');
    await page.waitForSelector('.live-state.live-open');
    await shot('jobs-empty');
  });

  it('lists every problem of the submit form before sending anything', async () => {
    await page.click('nav >> text=Submit');
    await page.selectOption('#f-type', 'echo-sleep-test');
    await page.fill('#f-sleep_duration_seconds', '-3');
    await page.click('button[type=submit]');
    const problems = await page.locator('.problems-box li').allTextContents();
    expect(problems.join('\n')).toMatch(/Job name.*is required/);
    expect(problems.join('\n')).toMatch(/message.*is required/);
    expect(problems.join('\n')).toMatch(/sleep_duration_seconds.*at least 0/);
    expect(page.url()).toMatch(/\/submit$/);
    await shot('submit');
  });

  it('submits a job from the form; the jobs page shows it appear and progress live', async () => {
    // A second tab on the jobs overview must see the job arrive without reloading.
    const overview = await context.newPage();
    await overview.goto(`${farm.url}/jobs`);
    await overview.waitForSelector('.live-state.live-open');

    await page.fill('#f-name', 'Web test job');
    await page.fill('#f-message', 'hello from the browser');
    await page.fill('#f-sleep_duration_seconds', '1');
    await page.fill('#f-sleep_repeats', '40');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
    await page.waitForSelector('.task-row[data-task-id]');
    // The first rows may come before the job itself; the count follows it.
    await page.waitForSelector('.task-counts:has-text("41 tasks")');

    const row = overview.locator('.jobs-table tbody tr', { hasText: 'Web test job' });
    await row.waitFor({ timeout: 15_000 });
    if (hasWorker) {
      // Progress moves while the worker runs the tasks, with no reload of either page.
      await overview.waitForFunction(
        () => {
          const tr = [...document.querySelectorAll('.jobs-table tbody tr')].find((r) =>
            r.textContent?.includes('Web test job'),
          );
          const bar = tr?.querySelector('[role=progressbar]');
          return Number(bar?.getAttribute('aria-valuenow') ?? 0) > 0;
        },
        undefined,
        { timeout: 60_000 },
      );
      expect(await row.locator('[role=progressbar]').getAttribute('aria-valuetext')).toMatch(
        /^\d+ of 41 tasks$/,
      );
      await page.waitForSelector('.task-row[data-task-id] .status-completed', { timeout: 30_000 });
    }
    await overview.screenshot({ path: path.join(ARTIFACTS, 'jobs.png') });
    await overview.close();
  });

  it('opens a task and follows its log live', async () => {
    if (!hasWorker) return;
    await page.locator('.task-row[data-task-id]').first().click();
    await page.waitForSelector('.task-detail');
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-testid=log-tail]')
          ?.textContent?.includes('hello from the browser'),
      undefined,
      { timeout: 30_000 },
    );
    // A running sleep task shows its log lines as they come.
    const active = page.locator('.task-row[data-task-id]:has(.status-active)').first();
    await active.waitFor({ timeout: 30_000 });
    await active.click();
    // Its lines arrive over the live socket while it runs (or with the first fetch).
    await page.waitForFunction(
      () => {
        const text = document.querySelector('[data-testid=log-tail]')?.textContent ?? '';
        return text !== '' && text !== 'No log yet.';
      },
      undefined,
      { timeout: 30_000 },
    );
    await shot('job');
    await page.click('text=Full log');
    await page.waitForSelector('[data-testid=full-log]');
    await shot('task-log');
    await page.goBack();
  });

  it('cancels the job with a bulk action on the jobs page', async () => {
    await page.click('nav >> text=Jobs');
    const row = page.locator('.jobs-table tbody tr', { hasText: 'Web test job' });
    await row.waitFor();
    const cancel = page.locator('.bulk-bar button', { hasText: /^Cancel$/ });
    expect(await cancel.isDisabled()).toBe(true);
    await row.locator('input[type=checkbox]').check();
    expect(await page.locator('.bulk-bar button', { hasText: 'Resume' }).isDisabled()).toBe(true);
    await cancel.click();
    await page.waitForSelector('.bulk-message:has-text("cancel: 1 done")');
    // The job says at once that the cancel was taken (cancel-requested while the worker stops its
    // task, then canceled), live, without a reload.
    const status = row.locator('.status-cancel-requested, .status-canceled');
    await status.waitFor({ timeout: 30_000 });
    // Only what the job's status allows is offered: nothing while the cancel is under way,
    // requeue (not cancel) once canceled.
    expect(await cancel.isDisabled()).toBe(true);
    // Read in one go: the status may move on between two separate reads.
    const state = await page.evaluate(() => {
      const tr = [...document.querySelectorAll('.jobs-table tbody tr')].find((r) =>
        r.textContent?.includes('Web test job'),
      );
      const requeue = [...document.querySelectorAll<HTMLButtonElement>('.bulk-bar button')].find(
        (b) => b.textContent === 'Requeue all',
      );
      return {
        canceled: !!tr?.querySelector('.status-canceled'),
        requeueDisabled: requeue?.disabled,
      };
    });
    expect(state.requeueDisabled).toBe(!state.canceled);
    // The worker reports the stop, so the job settles in canceled, live, and offers requeue.
    await row.locator('.status-canceled').waitFor({ timeout: 30_000 });
    await page.waitForSelector('.bulk-bar button:has-text("Requeue all"):not([disabled])', {
      timeout: 10_000,
    });
    await shot('jobs-after-cancel');
  });

  it('requeues a locked selection of tasks in one batch, offering only what the tasks allow', async () => {
    const row = page.locator('.jobs-table tbody tr', { hasText: 'Web test job' });
    await row.locator('a').first().click();
    await page.waitForSelector('.task-row[data-task-id]');
    // Every task has arrived (not only the first page) before counting on the table.
    await page.waitForSelector('[data-testid=tasks-shown]:has-text("shown")');
    // Keyboard: a row opens its task panel, Escape in the table closes it again.
    await page.locator('.task-row[data-task-id]').first().click();
    await page.waitForSelector('.task-detail');
    await page.focus('[data-testid=task-scroll]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.task-detail', { state: 'detached' });
    const chip = page.locator('.task-counts button:has(.status-canceled)');
    const canceled = Number(await chip.locator('.chip-count').textContent());
    expect(canceled).toBeGreaterThan(0);
    await chip.click();
    await page.waitForSelector(`[data-testid=tasks-shown]:has-text("${canceled} shown")`);
    const requeue = page.locator('.tasks-area .bulk-bar button', { hasText: /^Requeue$/ });
    const cancel = page.locator('.tasks-area .bulk-bar button', { hasText: /^Cancel$/ });
    expect(await requeue.isDisabled()).toBe(true);
    await page.check('.tasks-area .bulk-bar label:has-text("Lock selection") input');
    await page.click('.tasks-area .bulk-bar button:has-text("Select shown")');
    await page.waitForSelector(`.bulk-count:has-text("${canceled} selected")`);
    // Canceled tasks may be requeued, not canceled again.
    expect(await requeue.isDisabled()).toBe(false);
    expect(await cancel.isDisabled()).toBe(true);
    await requeue.click();
    await page.waitForSelector(`.bulk-message:has-text("requeue: ${canceled} done")`);
    // The lock keeps the requeued tasks in view although they left the "canceled" filter.
    await page.waitForFunction(
      () => !document.querySelector('.task-scroll .task-row .status-canceled'),
      undefined,
      { timeout: 10_000 },
    );
    expect(await page.locator('[data-testid=tasks-shown]').textContent()).toBe(`${canceled} shown`);
    await shot('job-tasks-locked');
    // Unlocked, the filter applies again: no canceled task is left to show.
    await page.uncheck('.tasks-area .bulk-bar label:has-text("Lock selection") input');
    await page.waitForSelector('[data-testid=tasks-shown]:has-text("0 shown")');
    await chip.click();
    // The job runs again, so its priority may be changed from its own page.
    await page.fill('[aria-label="Job priority (0 to 100)"]', '70');
    await page.click('[aria-label="Job actions"] button:has-text("Set priority")');
    await page.waitForSelector('dt:has-text("Priority") + dd:has-text("70")');
    // Leave the farm quiet for the next tests: cancel the job again.
    await page.click('[aria-label="Job actions"] button:has-text("Cancel")');
    await page.waitForSelector('.page-head .status-cancel-requested, .page-head .status-canceled', {
      timeout: 30_000,
    });
  });

  it('draws CPU and memory over time from the heartbeats, live', async () => {
    // A worker over plain HTTP, as a custom worker would be: its heartbeats carry host stats.
    const call = async <T>(apiPath: string, body: unknown, token?: string): Promise<T> => {
      const response = await fetch(`${farm.url}${apiPath}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${apiPath}: ${response.status} ${await response.text()}`);
      return (response.status === 204 ? undefined : await response.json()) as T;
    };
    const stats = (cpuPercent: number, memoryUsedBytes: number) => ({
      cpuPercent,
      memoryUsedBytes,
      memoryTotalBytes: 8_000_000_000,
      load1: 0.5,
      diskFreeBytes: 10_000_000_000,
      at: new Date().toISOString(),
    });
    const { token } = await call<{ token: string }>('/api/v1/worker/register', {
      secret: farm.registrationSecret,
      name: 'stats-worker',
      platform: 'linux',
      taskTypes: ['misc'],
    });
    await call(
      '/api/v1/worker/sign-on',
      {
        name: 'stats-worker',
        platform: 'linux',
        taskTypes: ['misc'],
        version: '1.0.0',
        hostStats: stats(10, 2_000_000_000),
      },
      token,
    );
    await page.click('nav >> text=Workers');
    const row = page.locator('.workers-table tbody tr', { hasText: 'stats-worker' });
    await row.waitFor();
    await row.click();
    await page.waitForSelector('.worker-detail dl');
    const cpuCell = row.locator('.col-spark').first();
    const memoryCell = row.locator('.col-spark').nth(1);
    const widthBefore = await cpuCell.evaluate((el) => el.getBoundingClientRect().width);
    // The first sample comes from the worker's stored stats: a flat line at 10 %.
    await page.waitForSelector('.worker-detail [aria-label="CPU use: 10%"]');

    // Three heartbeats later the graph has grown and says the newest values, with no reload.
    for (const [cpu, memory] of [
      [40, 3_000_000_000],
      [70, 4_000_000_000],
      [90, 6_000_000_000],
    ] as const) {
      await new Promise((r) => setTimeout(r, 5));
      await call('/api/v1/worker/heartbeat', { hostStats: stats(cpu, memory) }, token);
    }
    await cpuCell.locator('text=90%').waitFor({ timeout: 10_000 });
    expect(await memoryCell.textContent()).toContain('75%');
    const points = await cpuCell.locator('polyline').getAttribute('points');
    expect(points?.split(' ').length).toBeGreaterThanOrEqual(3);
    // Higher CPU is drawn higher: the last point's y is above (smaller than) the first one's.
    const ys = (points ?? '').split(' ').map((p) => Number(p.split(',')[1]));
    expect(ys[ys.length - 1]!).toBeLessThan(ys[0]!);
    expect(await page.locator('.worker-detail [aria-label="CPU use: 90%"]').count()).toBe(1);
    // The column kept its width when the graphs came: live data does not move the table.
    expect(await cpuCell.evaluate((el) => el.getBoundingClientRect().width)).toBe(widthBefore);
    await shot('workers-host-stats');
  });

  it('puts a worker to sleep from the workers page', async () => {
    if (!hasWorker) return;
    await page.click('nav >> text=Workers');
    const row = page.locator('.workers-table tbody tr', { hasText: 'web-test-worker' });
    await row.click();
    await page.waitForSelector('.worker-detail dl');
    await page.check('input[name=when] >> nth=1');
    await page.click('.worker-actions button:has-text("Sleep")');
    await row.locator('.status-asleep').waitFor({ timeout: 30_000 });
    await shot('workers');
  });

  it('renders the other pages', async () => {
    for (const [link, name, selector] of [
      ['Last rendered', 'last-rendered', 'h1#lr-title'],
      ['Job types', 'job-types', '.job-type'],
    ] as const) {
      await page.click(`nav >> text=${link}`);
      await page.waitForSelector(selector);
      await shot(name);
    }
    await page.click('text=Variables');
    await page.waitForSelector('h1#vars-title');
    await shot('variables');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.click('nav >> text=Jobs');
    await page.waitForSelector('.jobs-table tbody tr');
    await shot('jobs-dark');
    expect(pageErrors).toEqual([]);
  });

  it('signs in with a user name and password: a session, live updates, and only the allowed actions', async () => {
    const viewer = await farm.api<{ id: string }>('POST', '/api/v1/users', {
      name: 'vera',
      password: 'vera password 1',
    });
    const projects = await farm.api<{ items: { id: string; name: string }[] }>(
      'GET',
      '/api/v1/projects',
    );
    const project = projects.items.find((p) => p.name === 'default')!;
    await farm.api('PUT', `/api/v1/projects/${project.id}/members/${viewer.id}`, {
      role: 'viewer',
    });
    await page.click('text=Audit');
    await page.waitForSelector('h1#audit-title');
    await page.click('button:has-text("Sign out")');
    await page.goto(`${farm.url}/jobs`);
    await page.fill('#user-name', 'vera');
    await page.fill('#password', 'vera password 1');
    await page.click('button[type=submit]');
    await page.waitForSelector('h1#jobs-title');
    await page.waitForSelector('.live-state.live-open');
    await page.waitForSelector('header >> text=vera');
    // A viewer gets no admin pages and no job actions.
    expect(await page.locator('nav >> text=Audit').count()).toBe(0);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'farm_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Strict');
    await shot('viewer-session');
    expect(pageErrors).toEqual([]);
  });
});
