import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  browserTestsUnavailable,
  startTestFarm,
  type TestFarm,
} from './support/farm-processes';

// The notifications page against a real manager: a webhook subscription made in the form reaches
// a local receiver, and the browser shows a notification when the user's own job ends.
const unavailable = browserTestsUnavailable();
if (unavailable) console.log(`Skipping the notifications browser test: ${unavailable}.`);
const describeBrowser = unavailable ? describe.skip : describe;

jest.setTimeout(120_000);

describeBrowser('notifications in the web app', () => {
  let farm: TestFarm;
  let browser: Browser;
  let page: Page;
  let receiver: http.Server;
  let receiverUrl: string;
  const received: { event: string; signature: string }[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push({
          event: String(req.headers['x-farm-event']),
          signature: String(req.headers['x-farm-signature']),
        });
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    farm = await startTestFarm();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // Headless Chromium shows nothing; record what the app asks to show instead.
    await context.addInitScript(() => {
      const shown: { title: string; body?: string }[] = [];
      (window as unknown as { __shown: typeof shown }).__shown = shown;
      class RecordingNotification {
        static permission: NotificationPermission = 'default';
        static requestPermission(): Promise<NotificationPermission> {
          RecordingNotification.permission = 'granted';
          return Promise.resolve('granted');
        }
        onclick: (() => void) | null = null;
        constructor(title: string, options?: NotificationOptions) {
          shown.push({ title, body: options?.body });
        }
      }
      (window as unknown as { Notification: unknown }).Notification = RecordingNotification;
    });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await farm?.stop();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  it('subscribes a webhook from the form, shows its secret once, and logs a test delivery', async () => {
    await page.goto(`${farm.url}/`);
    await page.click('text=Use an API token instead');
    await page.fill('#token', farm.token);
    await page.click('button[type=submit]');
    await page.waitForSelector('.live-state.live-open');
    await page.click('nav >> text=Notifications');
    await page.waitForSelector('h1#notifications-title');
    await page.waitForSelector('text=No subscriptions yet');

    await page.fill('form >> label:has-text("Name") >> input', 'my hook');
    await page.fill('form >> label:has-text("URL") >> input', receiverUrl);
    await page.click('button:has-text("Add subscription")');
    const secret = await page.locator('.secret-once code').textContent();
    expect(secret).toMatch(/^whsec_/);
    await page.waitForSelector('td:has-text("my hook")');

    await page.click('button:has-text("Send test")');
    await page.waitForSelector('.delivery-log');
    for (let i = 0; i < 50; i++) {
      if ((await page.locator('.delivery-log td:has-text("delivered")').count()) > 0) break;
      await page.click('.delivery-log button:has-text("Refresh")');
      await page.waitForTimeout(200);
    }
    expect(await page.locator('.delivery-log td:has-text("delivered")').count()).toBe(1);
    expect(received.map((r) => r.event)).toEqual(['test']);
    expect(received[0]!.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    // Reloaded, the page no longer knows the secret.
    await page.reload();
    await page.waitForSelector('td:has-text("my hook")');
    expect(await page.locator('.secret-once').count()).toBe(0);
    expect(await page.content()).not.toContain(secret!);
  });

  it('shows a browser notification when the user`s own job ends', async () => {
    await page.click('button:has-text("Notify me in this browser")');
    await page.waitForSelector('text=You are told here');
    const job = await farm.api<{ id: string }>('POST', '/api/v1/jobs', {
      name: 'notify me',
      type: 'echo-sleep-test',
      settings: { message: 'hi', sleep_repeats: 1 },
    });
    await farm.api('POST', `/api/v1/jobs/${job.id}/actions`, { action: 'cancel' });
    await page.waitForFunction(
      () => (window as unknown as { __shown: unknown[] }).__shown.length > 0,
      undefined,
      { timeout: 15_000 },
    );
    const shown = await page.evaluate(() => (window as unknown as { __shown: unknown[] }).__shown);
    expect(shown).toEqual([{ title: 'Job canceled: notify me', body: expect.any(String) }]);
    expect(pageErrors).toEqual([]);
  });
});
