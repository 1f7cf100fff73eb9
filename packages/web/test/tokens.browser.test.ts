import { chromium, type Browser, type Page } from 'playwright-core';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  browserTestsUnavailable,
  startTestFarm,
  type TestFarm,
} from './support/farm-processes';

// "My tokens" against a real manager: a user signed in with a password makes a token in the page,
// sees its secret once, the token works with its scopes only, and revoking it stops it.
const unavailable = browserTestsUnavailable();
if (unavailable) console.log(`Skipping the tokens browser test: ${unavailable}.`);
const describeBrowser = unavailable ? describe.skip : describe;

jest.setTimeout(120_000);

describeBrowser('personal API tokens in the web app', () => {
  let farm: TestFarm;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    farm = await startTestFarm();
    const tina = await farm.api<{ id: string }>('POST', '/api/v1/users', {
      name: 'tina',
      password: 'tina correct horse',
    });
    // A viewer of the default project: the live socket (and so the app's "Live") needs a role.
    const projects = await farm.api<{ items: { id: string; name: string }[] }>(
      'GET',
      '/api/v1/projects',
    );
    const project = projects.items.find((p) => p.name === 'default')!;
    await farm.api('PUT', `/api/v1/projects/${project.id}/members/${tina.id}`, {
      role: 'viewer',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await farm?.stop();
  });

  const call = async (secret: string, method: string, apiPath: string) =>
    (
      await fetch(`${farm.url}${apiPath}`, {
        method,
        headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' },
        ...(method === 'GET' ? {} : { body: '{}' }),
      })
    ).status;

  it('creates a token shown once, which works within its scopes until it is revoked', async () => {
    await page.goto(`${farm.url}/`);
    await page.fill('#user-name', 'tina');
    await page.fill('#password', 'tina correct horse');
    await page.click('button[type=submit]');
    await page.waitForSelector('.live-state.live-open');
    await page.click('header >> text=My tokens');
    await page.waitForSelector('h1#tokens-title');
    await page.waitForSelector('text=No tokens yet');
    // A farm admin's scope is not offered to a user who is not one.
    expect(await page.locator('.token-form >> text=farm administration').count()).toBe(0);

    await page.fill('.token-form >> label:has-text("Name") >> input', 'render script');
    await page.check('.token-form >> label:has-text("workers:read") >> input');
    await page.selectOption('.token-form select', '30');
    await page.click('button:has-text("Create token")');
    const secret = (await page.locator('[data-token-secret]').textContent())!.trim();
    expect(secret).toMatch(/^farm_u_/);
    const row = page.locator('tr:has-text("render script")');
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('jobs:read workers:read');
    expect(await row.locator('td').nth(5).textContent()).toBe('active');

    expect(await call(secret, 'GET', '/api/v1/jobs')).toBe(200);
    expect(await call(secret, 'GET', '/api/v1/workers')).toBe(200);
    expect(await call(secret, 'POST', '/api/v1/jobs')).toBe(403);
    expect(await row.locator('td').nth(3).textContent()).not.toBe('never');

    // Reloaded, the page no longer knows the secret; the list still shows the token.
    await page.reload();
    await page.waitForSelector('tr:has-text("render script")');
    expect(await page.locator('[data-token-secret]').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    await page.click('button[aria-label="Revoke render script"]');
    await page.waitForSelector('tr:has-text("render script") >> text=/revoked/');
    expect(await call(secret, 'GET', '/api/v1/jobs')).toBe(401);
    expect(pageErrors).toEqual([]);
  });
});
