import type { OperationDefinition } from '../../../src/http/define-operation';
import type { Principal } from '../../../src/http/principal';
import { ifNoneMatchHits, registerJobTypeRoutes } from '../../../src/routes/job-types';
import { registerJobRoutes } from '../../../src/routes/jobs';
import { registerMetaRoutes } from '../../../src/routes/meta';
import { registerTaskRoutes } from '../../../src/routes/tasks';
import { startTestManager, type TestManager } from '../../http/test-app';
import { expectCountersMatchRows } from '../../support/counters';
import { describeEachDatabase, resetDatabase } from '../../support/test-database';
import { snapshotTables } from '../../services/jobs/table-snapshot';
import {
  createTestServiceContext,
  type TestServiceContext,
} from '../../services/jobs/test-service-context';

const TOKEN = 'tok-jobs-routes-0123456789';

describeEachDatabase('job, task, job-type and meta routes', (getDb) => {
  let ctx: TestServiceContext;
  let manager: TestManager;

  beforeAll(async () => {
    await resetDatabase(getDb().db);
    ctx = await createTestServiceContext(getDb());
    const operations: OperationDefinition[] = [];
    registerJobRoutes(operations, ctx);
    registerTaskRoutes(operations, ctx);
    registerJobTypeRoutes(operations, ctx);
    registerMetaRoutes(operations, ctx);
    manager = await startTestManager({
      operations,
      app: {
        authenticateToken: (token: string): Promise<Principal | null> =>
          Promise.resolve(token === TOKEN ? ctx.principal : null),
      },
    });
  });
  afterAll(async () => {
    await manager?.close();
    ctx?.cleanUp();
  });

  function call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    return fetch(`${manager.url}/api/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async function json(res: Response): Promise<any> {
    return res.json();
  }

  it('submits a job (201) and shows it, its tasks and its compact task list', async () => {
    const res = await call('POST', '/jobs', {
      name: 'Shot 010',
      type: 'echo-sleep-test',
      settings: { message: 'hi', sleep_repeats: 2 },
      metadata: { shot: '010' },
    });
    expect(res.status).toBe(201);
    const job = await json(res);
    expect(job).toMatchObject({ name: 'Shot 010', status: 'queued', taskCounts: { total: 3 } });

    expect(await json(await call('GET', `/jobs/${job.id}`))).toEqual(job);
    const list = await json(
      await call('GET', '/jobs?status=queued&status=paused&meta=shot%3D010&limit=5'),
    );
    expect(list.items.map((j: { id: string }) => j.id)).toEqual([job.id]);
    expect(list.nextCursor).toBeNull();

    const tasks = await json(await call('GET', `/jobs/${job.id}/tasks?sort=index&limit=2`));
    expect(tasks.items.map((t: { name: string }) => t.name)).toEqual(['echo', 'sleep-1']);
    const next = await json(
      await call('GET', `/jobs/${job.id}/tasks?sort=index&limit=2&cursor=${tasks.nextCursor}`),
    );
    expect(next.items.map((t: { name: string }) => t.name)).toEqual(['sleep-2']);

    const compact = await call('GET', `/jobs/${job.id}/tasks/compact`);
    expect(compact.status).toBe(200);
    expect(compact.headers.get('content-type')).toContain('application/json');
    expect((await json(compact)).names).toEqual(['echo', 'sleep-1', 'sleep-2']);

    const summary = await json(await call('GET', '/jobs/summary'));
    expect(summary).toMatchObject({ total: 1, counts: { queued: 1 } });
  });

  it('refuses bad submissions with 400 and stores nothing', async () => {
    const before = await snapshotTables(ctx.db);
    const unknownField = await call('POST', '/jobs', {
      name: 'x',
      type: 'echo-sleep-test',
      settings: { message: 'hi' },
      colour: 'red',
    });
    expect(unknownField.status).toBe(400);
    const badSettings = await call('POST', '/jobs', {
      name: 'x',
      type: 'echo-sleep-test',
      settings: { sleep_repeats: 'x' },
    });
    expect(badSettings.status).toBe(400);
    expect((await json(badSettings)).details.issues.length).toBe(2);
    const unknownType = await call('POST', '/jobs', { name: 'x', type: 'nope', settings: {} });
    expect(unknownType.status).toBe(400);
    expect((await json(unknownType)).details.issues[0].path).toBe('type');
    const stale = await call('POST', '/jobs', {
      name: 'x',
      type: 'echo-sleep-test',
      typeEtag: 'old',
      settings: { message: 'hi' },
    });
    expect(stale.status).toBe(412);
    const broken = await call('POST', '/jobs', {
      name: 'x',
      type: 'shell-frames',
      settings: { command: ' ', frames: '1' },
    });
    expect(broken.status).toBe(422);
    expect(await snapshotTables(ctx.db)).toEqual(before);
  });

  it('applies job actions, refusing a forbidden one with 409 and the allowed actions', async () => {
    const job = await json(
      await call('POST', '/jobs', {
        name: 'act',
        type: 'echo-sleep-test',
        settings: { message: 'hi' },
      }),
    );
    const paused = await call('POST', `/jobs/${job.id}/actions`, { action: 'pause' });
    expect(paused.status).toBe(200);
    expect((await json(paused)).status).toBe('paused');

    const before = await snapshotTables(ctx.db);
    const refused = await call('POST', `/jobs/${job.id}/actions`, { action: 'pause' });
    expect(refused.status).toBe(409);
    expect(await json(refused)).toMatchObject({
      code: 'invalid_transition',
      details: {
        status: 'paused',
        action: 'pause',
        allowedActions: ['cancel', 'resume', 'requeue', 'archive', 'delete', 'set-priority'],
      },
    });
    expect(await snapshotTables(ctx.db)).toEqual(before);

    const bulk = await json(
      await call('POST', '/jobs/actions', {
        jobIds: [job.id],
        action: 'set-priority',
        priority: 5,
      }),
    );
    expect(bulk.results).toEqual([
      { jobId: job.id, ok: true, job: expect.objectContaining({ priority: 5 }) },
    ]);
    await expectCountersMatchRows(ctx.db, job.id);

    const missing = await call('POST', '/jobs/00000000-0000-4000-8000-000000000000/actions', {
      action: 'cancel',
    });
    expect(missing.status).toBe(404);

    const deleted = await call('POST', `/jobs/${job.id}/actions`, { action: 'delete' });
    expect(deleted.status).toBe(200);
    expect((await call('GET', `/jobs/${job.id}`)).status).toBe(404);
  });

  it('applies task actions, shows a task and serves its log with size headers', async () => {
    const job = await json(
      await call('POST', '/jobs', {
        name: 'tasks',
        type: 'echo-sleep-test',
        settings: { message: 'hi' },
      }),
    );
    const tasks = await json(await call('GET', `/jobs/${job.id}/tasks`));
    const [first, second] = tasks.items as { id: string }[];
    const canceled = await call('POST', `/tasks/${first!.id}/actions`, { action: 'cancel' });
    expect(canceled.status).toBe(200);
    expect(await json(canceled)).toMatchObject({
      id: first!.id,
      status: 'canceled',
      allowedActions: ['requeue'],
    });
    const refused = await call('POST', `/tasks/${first!.id}/actions`, { action: 'cancel' });
    expect(refused.status).toBe(409);
    // The second task depends on the first: canceled with it, requeued with it (issue 8).
    expect(await json(await call('GET', `/tasks/${second!.id}`))).toMatchObject({
      status: 'canceled',
    });
    const bulk = await json(
      await call('POST', '/tasks/actions', { taskIds: [first!.id, second!.id], action: 'requeue' }),
    );
    expect(bulk.results.map((r: { ok: boolean }) => r.ok)).toEqual([true, true]);
    expect(await json(await call('GET', `/tasks/${second!.id}`))).toMatchObject({
      status: 'queued',
    });

    await ctx.logs.append(job.id, first!.id, 'hello\nworld');
    const log = await call('GET', `/tasks/${first!.id}/log?tail=6`);
    expect(log.status).toBe(200);
    expect(log.headers.get('x-log-size')).toBe('12');
    expect(log.headers.get('x-log-offset')).toBe('6');
    expect(await log.text()).toBe('world\n');
    const download = await call('GET', `/tasks/${first!.id}/log?download=true`);
    expect(download.headers.get('content-disposition')).toContain('attachment');
    expect(await download.text()).toBe('hello\nworld\n');
    expect((await call('GET', '/tasks/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('lists job types and serves one with its ETag', async () => {
    const list = await call('GET', '/job-types');
    expect(list.status).toBe(200);
    const names = (await json(list)).jobTypes.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(['echo-sleep-test', 'shell-frames']));
    expect(names).toEqual([...names].sort());
    const one = await call('GET', '/job-types/echo-sleep-test');
    const info = await json(one);
    expect(one.headers.get('etag')).toBe(`"${info.etag}"`);
    expect((await call('GET', '/job-types/nope')).status).toBe(404);
    expect(ifNoneMatchHits(`W/"x", "${info.etag}"`, info.etag)).toBe(true);
    expect(ifNoneMatchHits('"other"', info.etag)).toBe(false);
  });

  it('serves the variables of an audience and platform, and the current user', async () => {
    const vars = await json(await call('GET', '/variables/users/windows'));
    expect(vars).toMatchObject({
      audience: 'users',
      platform: 'windows',
      variables: { render: { value: 'R:', twoWay: true } },
    });
    const me = await json(await call('GET', '/me'));
    expect(me).toMatchObject({ id: ctx.principal.userId, name: 'ann', isAdmin: true, roles: [] });
    expect(me.scopes).toContain('jobs:write');
  });
});
