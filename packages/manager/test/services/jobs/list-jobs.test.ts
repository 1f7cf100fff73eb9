import { sql } from 'kysely';
import {
  applyJobAction,
  getJob,
  getJobBlocklist,
  getJobsSummary,
  getJobTasksCompact,
  listJobs,
  listJobTasks,
  readTaskLog,
  removeJobBlocklistEntries,
  submitJob,
} from '../../../src/services/jobs';
import { describeEachDatabase, resetDatabase } from '../../support/test-database';
import { insertWorker, taskIdsOf, workerMoves } from './job-fixtures';
import { createTestServiceContext, type TestServiceContext } from './test-service-context';

describeEachDatabase('listing jobs and tasks', (getDb) => {
  let ctx: TestServiceContext;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    await resetDatabase(getDb().db);
    ctx = await createTestServiceContext(getDb());
    await ctx.db.insertInto('projects').values({ name: 'film' }).execute();
    const specs: {
      name: string;
      project: string;
      priority: number;
      meta: Record<string, string>;
    }[] = [
      { name: 'Shot 010 lighting', project: 'film', priority: 80, meta: { shot: '010', seq: 'a' } },
      { name: 'Shot 020 lighting', project: 'film', priority: 20, meta: { shot: '020', seq: 'a' } },
      { name: 'Shot_030 100% comp', project: 'default', priority: 50, meta: { shot: '030' } },
      { name: 'encode', project: 'default', priority: 50, meta: {} },
    ];
    for (const spec of specs) {
      const job = await submitJob(ctx, ctx.principal, {
        name: spec.name,
        type: spec.name === 'encode' ? 'shell-frames' : 'echo-sleep-test',
        settings:
          spec.name === 'encode' ? { command: 'echo {frames}', frames: '1-3' } : { message: 'hi' },
        metadata: spec.meta,
        project: spec.project,
        priority: spec.priority,
      });
      ids[spec.name] = job.id;
    }
    await applyJobAction(ctx, ctx.principal, ids['encode']!, { action: 'pause' });
  });
  afterAll(() => ctx.cleanUp());

  const names = (page: { items: { name: string }[] }) => page.items.map((job) => job.name);

  it('filters by status, project, type, text (LIKE characters are literal), metadata and submitter', async () => {
    expect(names(await listJobs(ctx, ctx.principal, { status: ['paused'] }))).toEqual(['encode']);
    expect(
      names(await listJobs(ctx, ctx.principal, { project: 'film', sort: 'name', order: 'asc' })),
    ).toEqual(['Shot 010 lighting', 'Shot 020 lighting']);
    expect(names(await listJobs(ctx, ctx.principal, { type: 'shell-frames' }))).toEqual(['encode']);
    expect(
      names(await listJobs(ctx, ctx.principal, { q: 'LIGHT', sort: 'name', order: 'asc' })),
    ).toEqual(['Shot 010 lighting', 'Shot 020 lighting']);
    expect(names(await listJobs(ctx, ctx.principal, { q: '100%' }))).toEqual([
      'Shot_030 100% comp',
    ]);
    expect(names(await listJobs(ctx, ctx.principal, { q: 't_0' }))).toEqual(['Shot_030 100% comp']);
    expect(names(await listJobs(ctx, ctx.principal, { meta: ['seq=a', 'shot=020'] }))).toEqual([
      'Shot 020 lighting',
    ]);
    expect(await listJobs(ctx, ctx.principal, { submitter: 'nobody' })).toEqual({
      items: [],
      nextCursor: null,
    });
    expect(await listJobs(ctx, ctx.principal, { submitter: 'ann' })).toMatchObject({
      items: { length: 4 },
    });
  });

  it('sorts on whitelisted columns', async () => {
    expect(names(await listJobs(ctx, ctx.principal, { sort: 'priority', order: 'desc' }))).toEqual([
      'Shot 010 lighting',
      expect.any(String),
      expect.any(String),
      'Shot 020 lighting',
    ]);
    const byStatus = await listJobs(ctx, ctx.principal, { sort: 'status', order: 'asc' });
    expect(byStatus.items.map((job) => job.status)).toEqual([
      'queued',
      'queued',
      'queued',
      'paused',
    ]);
  });

  it('walks every page with the cursor, each job once, for every sort', async () => {
    for (const sort of ['created', 'updated', 'priority', 'name', 'status'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await listJobs(ctx, ctx.principal, {
            sort,
            order,
            limit: 1,
            ...(cursor ? { cursor } : {}),
          });
          seen.push(...page.items.map((job) => job.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(seen.sort()).toEqual(Object.values(ids).sort());
      }
    }
  });

  it('refuses a forged cursor with a validation error', async () => {
    await expect(listJobs(ctx, ctx.principal, { cursor: 'bm9wZQ' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });

  it('counts jobs per status', async () => {
    const all = await getJobsSummary(ctx, ctx.principal, {});
    expect(all.total).toBe(4);
    expect(all.counts).toMatchObject({ queued: 3, paused: 1, active: 0 });
    expect((await getJobsSummary(ctx, ctx.principal, { project: 'film' })).total).toBe(2);
    expect((await getJob(ctx, ctx.principal, ids['encode']!)).status).toBe('paused');
  });

  it("pages a job's tasks and sorts them", async () => {
    const jobId = ids['Shot 010 lighting']!;
    const first = await listJobTasks(ctx, jobId, { limit: 1 });
    expect(first.items.map((t) => t.index)).toEqual([0]);
    const rest = await listJobTasks(ctx, jobId, { limit: 10, cursor: first.nextCursor! });
    expect(rest.items.map((t) => t.index)).toEqual([1]);
    expect(rest.nextCursor).toBeNull();
    const desc = await listJobTasks(ctx, jobId, { sort: 'name', order: 'desc' });
    expect(desc.items.map((t) => t.name)).toEqual(['sleep-1', 'echo']);
    await expect(
      listJobTasks(ctx, '00000000-0000-4000-8000-000000000009', {}),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('lists and removes blocklist entries', async () => {
    const jobId = ids['encode']!;
    const worker = await insertWorker(ctx, 'bad-gpu');
    await ctx.db
      .insertInto('job_blocklist')
      .values({ job_id: jobId, worker_id: worker, task_type: 'misc' })
      .execute();
    expect(await getJobBlocklist(ctx, jobId)).toEqual({
      items: [
        {
          workerId: worker,
          workerName: 'bad-gpu',
          taskType: 'misc',
          createdAt: expect.any(String),
        },
      ],
    });
    await removeJobBlocklistEntries(ctx, jobId, [{ workerId: worker, taskType: 'misc' }]);
    expect(await getJobBlocklist(ctx, jobId)).toEqual({ items: [] });
    expect(ctx.wakeups).toBeGreaterThan(0);
  });

  it('reads a task log whole, by tail and by range', async () => {
    const jobId = ids['encode']!;
    const [taskId] = await taskIdsOf(ctx, jobId);
    await ctx.logs.append(jobId, taskId!, 'line one\nline two\nline three');
    const whole = await readTaskLog(ctx, taskId!, {});
    expect(whole).toMatchObject({ body: 'line one\nline two\nline three\n', offset: 0, size: 29 });
    expect((await readTaskLog(ctx, taskId!, { tail: 12 })).body).toBe('line three\n');
    expect(await readTaskLog(ctx, taskId!, { offset: 5, length: 3 })).toMatchObject({
      body: 'one',
      offset: 5,
    });
  });
});

describeEachDatabase('compact task lists', (getDb, backend) => {
  let ctx: TestServiceContext;
  beforeAll(async () => {
    await resetDatabase(getDb().db);
    ctx = await createTestServiceContext(getDb());
  });
  afterAll(() => ctx.cleanUp());

  it('returns every task of a 10,000-task job as parallel columns in index order', async () => {
    const job = await submitJob(ctx, ctx.principal, {
      name: 'big',
      type: 'shell-frames',
      settings: { command: 'echo {frames}', frames: '1-10000' },
    });
    const taskIds = await taskIdsOf(ctx, job.id);
    const worker = await insertWorker(ctx);
    await workerMoves(ctx, job.id, taskIds[5]!, 'queued', 'active', worker);
    await sql`update tasks set progress = 0.5 where id = ${taskIds[5]!}`.execute(ctx.db);

    const started = process.hrtime.bigint();
    const text = await getJobTasksCompact(ctx, job.id);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(
      `[${backend}] compact list of 10,000 tasks: ${ms.toFixed(0)} ms, ${text.length} bytes`,
    );
    const compact = JSON.parse(text) as Record<string, unknown[]>;
    expect(Object.keys(compact).sort()).toEqual(
      ['ids', 'indexes', 'names', 'progress', 'statuses', 'types', 'updated', 'workerNames'].sort(),
    );
    for (const column of Object.values(compact)) expect(column).toHaveLength(10_000);
    expect(compact.ids).toEqual(taskIds);
    expect(compact.indexes!.slice(0, 3)).toEqual([0, 1, 2]);
    expect(compact.names![9999]).toBe('run-10000');
    expect(compact.statuses![5]).toBe('active');
    expect(compact.workerNames![5]).toBe('render-01');
    expect(compact.workerNames![4]).toBeNull();
    expect(compact.progress![5]).toBe(0.5);
    expect(compact.updated![0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
