import { sql } from 'kysely';
import { describeEachDatabase } from '../support/test-database';

// The scheduler's claim must not scan a job's finished tasks: with 50,000 tasks, most of them done,
// the plan has to go through the partial index that holds runnable tasks only.
describeEachDatabase('claim index', (getDb) => {
  beforeAll(async () => {
    const { db } = getDb();
    const project = await db.selectFrom('projects').select('id').executeTakeFirstOrThrow();
    await sql`
      insert into jobs (name, type, project_id, status, priority, tasks_total)
      select 'job ' || g, 'simple-blender-render', ${project.id},
             case when g % 5 = 0 then 'completed' else 'active' end, 40 + g % 3, 1000
      from generate_series(1, 50) g`.execute(db);
    await sql`
      insert into tasks (job_id, idx, name, type, status, priority, unmet_dependencies)
      select j.id, g, 'task ' || g, case when g % 4 = 0 then 'ffmpeg' else 'blender' end,
             case when g < 800 then 'completed' else 'queued' end, 50,
             case when g % 7 = 0 then 1 else 0 end
      from jobs j cross join generate_series(0, 999) g`.execute(db);
    await sql`analyze jobs`.execute(db);
    await sql`analyze tasks`.execute(db);
  }, 120_000);

  async function plan(query: ReturnType<typeof sql>): Promise<string> {
    const { rows } = await sql<{ 'QUERY PLAN': string }>`explain ${query}`.execute(getDb().db);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  }

  it('holds 50,000 tasks', async () => {
    const { count } = await getDb()
      .db.selectFrom('tasks')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    expect(count).toBe(50_000);
  });

  it('finds the next task of a job through tasks_claim_idx', async () => {
    const job = await getDb()
      .db.selectFrom('jobs')
      .select('id')
      .where('status', '=', 'active')
      .executeTakeFirstOrThrow();
    const text = await plan(sql`
      select id from tasks
      where job_id = ${job.id} and status in ('queued', 'soft-failed') and unmet_dependencies = 0
        and type = any(${['blender', 'ffmpeg']}::text[])
      order by priority desc, idx
      limit 1
      for update skip locked`);
    expect(text).toMatch(/Index Scan using tasks_claim_idx on tasks/);
    expect(text).not.toMatch(/Seq Scan on tasks/);
  });

  it('walks runnable jobs in claim order and takes each one`s first runnable task', async () => {
    const text = await plan(sql`
      select j.id as job_id, t.id as task_id
      from jobs j
      cross join lateral (
        select t.id from tasks t
        where t.job_id = j.id and t.status in ('queued', 'soft-failed')
          and t.unmet_dependencies = 0 and t.type = any(${['blender']}::text[])
        order by t.priority desc, t.idx
        limit 1
        for update of t skip locked
      ) t
      where j.status in ('queued', 'active')
      order by j.priority desc, j.created_at, j.id
      limit 1`);
    expect(text).toMatch(/tasks_claim_idx/);
    expect(text).not.toMatch(/Seq Scan on tasks/);
  });
});
