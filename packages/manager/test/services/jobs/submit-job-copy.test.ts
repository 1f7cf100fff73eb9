import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createJobTypeRegistry } from '@farm/core';
import { sql } from 'kysely';
import { submitJob } from '../../../src/services/jobs';
import { describeEachDatabase, resetDatabase } from '../../support/test-database';
import { createTestServiceContext, type TestServiceContext } from './test-service-context';

// A job type whose task names and arguments hold characters that COPY's text format escapes,
// and, when asked, one task Postgres cannot store (a NUL character in its name).
const AWKWARD_JOB_TYPE = String.raw`
const JOB_TYPE = {
  label: 'Awkward tasks',
  settings: [
    { key: 'count', type: 'int32', required: true },
    { key: 'unstorable_at', type: 'int32', default: -1 },
  ],
};
const TEXTS = ['tab\there', 'new\nline', 'back\\slash', '\\N', 'quote " and \'', 'ünï ✓ 🎬', '{a,b}'];
function compileJob(job) {
  for (let i = 0; i < job.settings.count; i++) {
    const text = TEXTS[i % TEXTS.length];
    const name = i === job.settings.unstorable_at ? 'nul\u0000name' : text + ' ' + i;
    const task = author.Task(name, 'misc');
    task.addCommand(author.Command('exec', { exe: 'echo', args: [text, String(i)] }));
    task.tags = [text];
    job.addTask(task);
  }
}
`;

describeEachDatabase('submitting a job stored with COPY', (getDb) => {
  let ctx: TestServiceContext;
  let folder: string;
  beforeAll(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-awkward-job-type-'));
    fs.writeFileSync(path.join(folder, 'awkward-tasks.js'), AWKWARD_JOB_TYPE);
  });
  afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));
  beforeEach(async () => {
    await resetDatabase(getDb().db);
    ctx = await createTestServiceContext(getDb());
    ctx.jobTypes = createJobTypeRegistry({ folders: [folder], withoutBundled: true });
  });
  afterEach(() => ctx.cleanUp());

  async function stored(): Promise<{ jobs: number; tasks: number }> {
    const { rows } = await sql<{ jobs: number; tasks: number }>`
      select (select count(*) from jobs)::int as jobs, (select count(*) from tasks)::int as tasks`.execute(
      ctx.db,
    );
    return rows[0]!;
  }

  it('stores every task of the job with its text unchanged', async () => {
    const job = await submitJob(ctx, ctx.principal, {
      name: 'awkward',
      type: 'awkward-tasks',
      settings: { count: 5000 },
    });
    expect(job.taskCounts).toMatchObject({ total: 5000, queued: 5000 });
    const rows = await ctx.db
      .selectFrom('tasks')
      .select(['idx', 'name', 'tags', 'commands'])
      .where('job_id', '=', job.id)
      .where('idx', 'in', [0, 1, 2, 3, 4, 5, 6, 4999])
      .orderBy('idx')
      .execute();
    const texts = [
      'tab\there',
      'new\nline',
      'back\\slash',
      '\\N',
      'quote " and \'',
      'ünï ✓ 🎬',
      '{a,b}',
    ];
    expect(rows).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 4999].map((idx) => ({
        idx,
        name: `${texts[idx % 7]!} ${idx}`,
        tags: [texts[idx % 7]!],
        commands: [
          { name: 'exec', parameters: { exe: 'echo', args: [texts[idx % 7]!, String(idx)] } },
        ],
      })),
    );
  });

  it('refuses a task Postgres cannot store with a validation error and stores neither job nor tasks', async () => {
    // Task 4500 comes after two chunks that already reached the database.
    const error: unknown = await submitJob(ctx, ctx.principal, {
      name: 'unstorable',
      type: 'awkward-tasks',
      settings: { count: 5000, unstorable_at: 4500 },
    }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toMatchObject({
      code: 'validation_failed',
      details: { issues: [{ path: 'tasks[4500].name' }] },
    });
    expect(await stored()).toEqual({ jobs: 0, tasks: 0 });
    expect(ctx.events).toEqual([]);
    expect(ctx.wakeups).toBe(0);

    // The same submission without the bad task goes through afterwards.
    await submitJob(ctx, ctx.principal, {
      name: 'fine',
      type: 'awkward-tasks',
      settings: { count: 5000 },
    });
    expect(await stored()).toEqual({ jobs: 1, tasks: 5000 });
  });
});
