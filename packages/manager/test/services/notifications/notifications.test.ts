import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { pruneDeliveryLog } from '../../../src/services/notifications';
import { testBackends } from '../../support/test-database';
import { startTestManager, type TestManager } from '../../support/test-manager';

// Notifications end to end on a real manager: events of real jobs reach a local HTTP receiver
// signed and retried, every chat channel posts its own format, and e-mail reaches a local SMTP
// server.

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The parts of API answers these tests read. */
interface SubscriptionBody {
  id: string;
  secret?: string;
  hasSecret: boolean;
  target: string;
}
interface DeliveryBody {
  id: string;
  event: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  attemptLog: { statusCode: number | null }[];
}

/** An answer the receiver gives once, to the first request it matches. */
interface PlannedAnswer {
  match: (request: Received) => boolean;
  status: number;
}

/** A local HTTP server that records requests and answers 200 unless an answer is planned. */
async function startReceiver(): Promise<{
  url: string;
  requests: Received[];
  plan: PlannedAnswer[];
  close(): Promise<void>;
}> {
  const requests: Received[] = [];
  const plan: PlannedAnswer[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      const planned = plan.findIndex((answer) => answer.match(request));
      res.statusCode = planned < 0 ? 200 : plan.splice(planned, 1)[0]!.status;
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    plan,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const backend of testBackends()) {
  describe(`notifications [${backend}]`, () => {
    let farm: TestManager;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let smtp: SMTPServer;
    const mails: { to: string; data: string }[] = [];

    beforeAll(async () => {
      smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData(stream, session, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            mails.push({
              to: session.envelope.rcptTo.map((r) => r.address).join(','),
              data: Buffer.concat(chunks).toString('utf8'),
            });
            callback();
          });
        },
      });
      await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
      const smtpPort = (smtp.server.address() as AddressInfo).port;
      receiver = await startReceiver();
      farm = await startTestManager(backend, [
        '--notification-retry-base',
        '200ms',
        '--smtp-url',
        `smtp://127.0.0.1:${smtpPort}`,
        '--smtp-from',
        'Farm <farm@example.test>',
        '--max-task-failures',
        '1',
      ]);
    }, 120_000);
    afterAll(async () => {
      await farm?.stop();
      await receiver?.close();
      await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    });
    beforeEach(() => {
      receiver.requests.length = 0;
      receiver.plan.length = 0;
    });

    const api = async (
      method: string,
      path: string,
      body?: unknown,
      token: string | null = farm.adminToken,
    ): Promise<{ status: number; body: any }> => {
      const response = await fetch(`${farm.url}${path}`, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };
    const subscribe = async (input: Record<string, unknown>) => {
      const created = await api('POST', '/api/v1/notifications/subscriptions', input);
      expect(created.status).toBe(201);
      return created.body as SubscriptionBody;
    };
    const deliveries = async (id: string): Promise<DeliveryBody[]> =>
      (
        (await api('GET', `/api/v1/notifications/subscriptions/${id}/deliveries`)).body as {
          items: DeliveryBody[];
        }
      ).items;

    it('signs a webhook delivery of a real job event and retries it after a failing answer', async () => {
      const sub = await subscribe({
        name: 'hook',
        channel: 'webhook',
        url: `${receiver.url}/hook`,
        events: ['job-canceled', 'farm-idle'],
      });
      expect(sub.secret).toMatch(/^whsec_/);
      expect(sub.hasSecret).toBe(true);
      // The secret is shown once: never again in a read or a list.
      const read = await api('GET', `/api/v1/notifications/subscriptions/${sub.id}`);
      expect(read.body.secret).toBeUndefined();
      const listed = await api('GET', '/api/v1/notifications/subscriptions');
      expect(JSON.stringify(listed.body)).not.toContain(sub.secret);

      receiver.plan.push({
        match: (r) => r.headers['x-farm-event'] === 'job-canceled',
        status: 503,
      });
      const job = await api('POST', '/api/v1/jobs', {
        name: 'to cancel',
        type: 'echo-sleep-test',
        settings: { message: 'hi', sleep_repeats: 1 },
      });
      expect(job.status).toBe(201);
      const canceled = await api('POST', `/api/v1/jobs/${job.body.id}/actions`, {
        action: 'cancel',
      });
      expect(canceled.status).toBeLessThan(300);

      const hits = await waitFor('the retried delivery', () => {
        const hooks = receiver.requests.filter((r) => r.headers['x-farm-event'] === 'job-canceled');
        return hooks.length >= 2 ? hooks : undefined;
      });
      // The same delivery twice: first refused with 503, then accepted.
      expect(hits[0]!.headers['x-farm-delivery']).toBe(hits[1]!.headers['x-farm-delivery']);
      for (const hit of hits) {
        const timestamp = hit.headers['x-farm-timestamp'] as string;
        const expected = createHmac('sha256', sub.secret as string)
          .update(`${timestamp}.${hit.body}`)
          .digest('hex');
        expect(hit.headers['x-farm-signature']).toBe(`sha256=${expected}`);
        expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
      }
      const payload = JSON.parse(hits[1]!.body);
      expect(payload).toMatchObject({
        event: 'job-canceled',
        test: false,
        data: { job: { id: job.body.id, name: 'to cancel', status: 'canceled' } },
      });
      // A forged body does not match the signature.
      const forged = createHmac('sha256', sub.secret as string)
        .update(`${hits[1]!.headers['x-farm-timestamp'] as string}.${hits[1]!.body} `)
        .digest('hex');
      expect(hits[1]!.headers['x-farm-signature']).not.toBe(`sha256=${forged}`);

      const log = await waitFor('the delivery log', async () => {
        const items = await deliveries(sub.id);
        const entry = items.find((d) => d.event === 'job-canceled');
        return entry?.status === 'delivered' ? entry : undefined;
      });
      expect(log.attempts).toBe(2);
      expect(log.lastStatusCode).toBe(200);
      expect(log.attemptLog.map((a) => a.statusCode)).toEqual([503, 200]);

      // Nothing else is queued or running: the farm went idle, and says so once.
      await waitFor('farm idle', () =>
        receiver.requests.find((r) => r.headers['x-farm-event'] === 'farm-idle'),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(
        receiver.requests.filter((r) => r.headers['x-farm-event'] === 'farm-idle'),
      ).toHaveLength(1);
    }, 60_000);

    it('gives up after a refusal a retry cannot fix, and stops sending when disabled', async () => {
      const sub = await subscribe({
        channel: 'webhook',
        url: `${receiver.url}/gone`,
        events: ['job-canceled'],
      });
      receiver.plan.push({ match: (r) => r.url === '/gone', status: 410 });
      const test = await api('POST', `/api/v1/notifications/subscriptions/${sub.id}/test`);
      expect(test.status).toBe(202);
      expect(test.body).toMatchObject({ event: 'test', test: true, status: 'pending' });
      const failed = await waitFor('the failed delivery', async () => {
        const entry = (await deliveries(sub.id)).find((d) => d.id === test.body.id);
        return entry?.status === 'failed' ? entry : undefined;
      });
      expect(failed).toMatchObject({ attempts: 1, lastStatusCode: 410, lastError: 'HTTP 410' });

      const disabled = await api('PATCH', `/api/v1/notifications/subscriptions/${sub.id}`, {
        enabled: false,
      });
      expect(disabled.body.enabled).toBe(false);
      receiver.requests.length = 0;
      const job = await api('POST', '/api/v1/jobs', {
        name: 'quiet',
        type: 'echo-sleep-test',
        settings: { message: 'hi', sleep_repeats: 1 },
      });
      await api('POST', `/api/v1/jobs/${job.body.id}/actions`, { action: 'cancel' });
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(receiver.requests.filter((r) => r.url === '/gone')).toEqual([]);

      expect((await api('DELETE', `/api/v1/notifications/subscriptions/${sub.id}`)).status).toBe(
        204,
      );
      expect((await api('GET', `/api/v1/notifications/subscriptions/${sub.id}`)).status).toBe(404);
    }, 60_000);

    it('posts each chat channel in its own format', async () => {
      const base = receiver.url;
      const subs = {
        slack: await subscribe({
          channel: 'slack',
          url: `${base}/slack/T0/B0/xyz`,
          events: ['job-failed'],
        }),
        discord: await subscribe({
          channel: 'discord',
          url: `${base}/discord/1/abc`,
          events: ['job-failed'],
        }),
        rocketchat: await subscribe({
          channel: 'rocketchat',
          url: `${base}/rc/hooks/k`,
          events: ['job-failed'],
        }),
        matrix: await subscribe({
          channel: 'matrix',
          url: base,
          roomId: '!room:example.test',
          token: 'matrix-access-token',
          events: ['job-failed'],
        }),
        telegram: await subscribe({
          channel: 'telegram',
          url: base,
          chatId: '-1001234',
          token: '123:telegram-bot-token',
          events: ['job-failed'],
        }),
      };
      // Secrets stay out of answers; a chat webhook's path (its credential) is masked.
      expect(JSON.stringify(subs)).not.toContain('matrix-access-token');
      expect(JSON.stringify(subs)).not.toContain('telegram-bot-token');
      expect(subs.slack.target).toBe(`${base}/…`);
      for (const sub of Object.values(subs)) {
        expect(
          (await api('POST', `/api/v1/notifications/subscriptions/${sub.id}/test`)).status,
        ).toBe(202);
      }
      await waitFor('five chat posts', () => (receiver.requests.length >= 5 ? true : undefined));
      const byPath = (prefix: string) => {
        const hit = receiver.requests.find((r) => r.url.startsWith(prefix));
        expect(hit).toBeDefined();
        return { ...hit!, json: JSON.parse(hit!.body) };
      };

      const slack = byPath('/slack/');
      expect(slack.method).toBe('POST');
      expect(slack.json.text).toContain('Test notification');
      expect(slack.json.blocks[1]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });

      const discord = byPath('/discord/');
      expect(discord.json.embeds[0]).toMatchObject({ title: 'Test notification from Farm' });
      expect(typeof discord.json.embeds[0].color).toBe('number');

      const rocket = byPath('/rc/');
      expect(rocket.json.attachments[0]).toMatchObject({ title: 'Test notification from Farm' });
      expect(rocket.json.attachments[0].color).toMatch(/^#[0-9a-f]{6}$/);

      const matrix = byPath('/_matrix/client/v3/rooms/');
      expect(matrix.method).toBe('PUT');
      expect(matrix.url).toMatch(
        /^\/_matrix\/client\/v3\/rooms\/!room%3Aexample\.test\/send\/m\.room\.message\/[0-9a-f-]{36}$/,
      );
      expect(matrix.headers.authorization).toBe('Bearer matrix-access-token');
      expect(matrix.json).toMatchObject({ msgtype: 'm.text', format: 'org.matrix.custom.html' });

      const telegram = byPath('/bot123:telegram-bot-token/sendMessage');
      expect(telegram.json).toMatchObject({ chat_id: '-1001234', parse_mode: 'HTML' });
      expect(telegram.json.text).toContain('<b>Test notification from Farm</b>');
    }, 60_000);

    it('sends e-mail through the configured SMTP server', async () => {
      const sub = await subscribe({
        channel: 'email',
        email: 'artist@example.test',
        events: ['job-completed', 'job-failed'],
      });
      expect(sub.target).toBe('artist@example.test');
      await api('POST', `/api/v1/notifications/subscriptions/${sub.id}/test`);
      const mail = await waitFor('the e-mail', () =>
        mails.find((m) => m.to === 'artist@example.test'),
      );
      expect(mail.data).toContain('Subject: [Farm] Test notification from Farm');
      expect(mail.data).toContain('farm@example.test');
      const entry = await waitFor('the delivered entry', async () => {
        const items = await deliveries(sub.id);
        return items[0]?.status === 'delivered' ? items[0] : undefined;
      });
      expect(entry.attempts).toBe(1);
    }, 60_000);

    it('tells of a failed task and a worker going offline, and keeps job events from users who may not see the job', async () => {
      const admin = await subscribe({
        channel: 'webhook',
        url: `${receiver.url}/admin`,
        events: ['worker-offline', 'job-canceled', 'task-failed'],
        onlyMyJobs: true,
      });
      // Another user, neither admin nor member of the job's project, subscribed to everything.
      const db = farm.manager.database.db;
      const outsider = await db
        .insertInto('users')
        .values({ name: 'outsider', email: null, password_hash: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('notification_subscriptions')
        .values({
          user_id: outsider.id,
          project_id: null,
          channel: 'webhook',
          events: ['job-canceled', 'worker-offline'],
          url: `${receiver.url}/outsider`,
          secret: 'outsider-secret',
        })
        .execute();

      const registered = await api(
        'POST',
        '/api/v1/worker/register',
        {
          secret: farm.manager.registrationSecret,
          name: 'leaving-worker',
          platform: 'linux',
          taskTypes: ['misc'],
        },
        null,
      );
      const workerToken: string = registered.body.token;
      await api(
        'POST',
        '/api/v1/worker/sign-on',
        {
          name: 'leaving-worker',
          platform: 'linux',
          taskTypes: ['misc'],
          version: 'test',
        },
        workerToken,
      );
      // The worker fails a task (one failure fails a task on this farm: --max-task-failures 1).
      const failing = await api('POST', '/api/v1/jobs', {
        name: 'failing',
        type: 'echo-sleep-test',
        settings: { message: 'hi', sleep_repeats: 1 },
      });
      await api('POST', '/api/v1/worker/state-changed', { status: 'awake' }, workerToken);
      const claim = await api('POST', '/api/v1/worker/claim', { waitMs: 0 }, workerToken);
      expect(claim.status).toBe(200);
      const taskPath = `/api/v1/worker/tasks/${claim.body.id}/update`;
      await api('POST', taskPath, { status: 'active' }, workerToken);
      const failed = await api(
        'POST',
        taskPath,
        { status: 'failed', failureReason: 'boom' },
        workerToken,
      );
      expect(failed.status).toBe(204);
      const taskFailed = await waitFor('task failed', () =>
        receiver.requests.find(
          (r) => r.url === '/admin' && r.headers['x-farm-event'] === 'task-failed',
        ),
      );
      expect(JSON.parse(taskFailed.body).data).toMatchObject({
        jobId: failing.body.id,
        task: { id: claim.body.id, status: 'failed' },
      });
      expect((await api('POST', '/api/v1/worker/sign-off', {}, workerToken)).status).toBeLessThan(
        300,
      );

      const job = await api('POST', '/api/v1/jobs', {
        name: 'private',
        type: 'echo-sleep-test',
        settings: { message: 'hi', sleep_repeats: 1 },
      });
      await api('POST', `/api/v1/jobs/${job.body.id}/actions`, { action: 'cancel' });

      const offline = await waitFor('worker offline', () =>
        receiver.requests.find(
          (r) => r.url === '/admin' && r.headers['x-farm-event'] === 'worker-offline',
        ),
      );
      expect(JSON.parse(offline.body).data.worker).toMatchObject({
        name: 'leaving-worker',
        status: 'offline',
      });
      await waitFor('the admin`s job event', () =>
        receiver.requests.find(
          (r) => r.url === '/admin' && r.headers['x-farm-event'] === 'job-canceled',
        ),
      );
      await waitFor('the outsider`s worker event', () =>
        receiver.requests.find(
          (r) => r.url === '/outsider' && r.headers['x-farm-event'] === 'worker-offline',
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(
        receiver.requests.filter(
          (r) => r.url === '/outsider' && r.headers['x-farm-event'] === 'job-canceled',
        ),
      ).toEqual([]);
      // The outsider's subscription is not the admin's to read.
      const others = await db
        .selectFrom('notification_subscriptions')
        .select('id')
        .where('user_id', '=', outsider.id)
        .executeTakeFirstOrThrow();
      expect((await api('GET', `/api/v1/notifications/subscriptions/${others.id}`)).status).toBe(
        404,
      );
      await api('DELETE', `/api/v1/notifications/subscriptions/${admin.id}`);
    }, 60_000);

    it('keeps the delivery log for 30 days, and pending deliveries until they are sent', async () => {
      const sub = await subscribe({
        channel: 'webhook',
        url: `${receiver.url}/old`,
        events: ['job-failed'],
      });
      const db = farm.manager.database.db;
      const old = new Date(Date.now() - 31 * 24 * 60 * 60_000);
      const recent = new Date(Date.now() - 29 * 24 * 60 * 60_000);
      const message = JSON.stringify({ title: 'old' });
      await db
        .insertInto('notification_deliveries')
        .values([
          {
            subscription_id: sub.id,
            kind: 'job-failed',
            message,
            status: 'delivered',
            created_at: old,
          },
          {
            subscription_id: sub.id,
            kind: 'job-failed',
            message,
            status: 'failed',
            created_at: old,
          },
          {
            subscription_id: sub.id,
            kind: 'job-failed',
            message,
            status: 'delivered',
            created_at: recent,
          },
          {
            subscription_id: sub.id,
            kind: 'job-failed',
            message,
            status: 'pending',
            created_at: old,
            next_attempt_at: new Date(Date.now() + 3_600_000),
          },
        ])
        .execute();
      expect(await pruneDeliveryLog(db)).toBe(2);
      const left = await deliveries(sub.id);
      expect(left.map((d) => d.status).sort()).toEqual(['delivered', 'pending']);
    });

    it('refuses a subscription that could not deliver, listing every problem', async () => {
      const refused = await api('POST', '/api/v1/notifications/subscriptions', {
        channel: 'matrix',
        events: ['job-failed'],
      });
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe('validation_failed');
      const paths = refused.body.details.issues.map((i: { path: string }) => i.path).sort();
      expect(paths).toEqual(['body.roomId', 'body.token', 'body.url']);
      const badScheme = await api('POST', '/api/v1/notifications/subscriptions', {
        channel: 'webhook',
        url: 'ftp://example.test/x',
        events: ['job-failed'],
      });
      expect(badScheme.status).toBe(400);
    });
  });
}
