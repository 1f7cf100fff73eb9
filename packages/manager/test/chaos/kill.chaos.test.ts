import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { countersAndRows } from '../support/counters';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import {
  api,
  freePort,
  MANAGER_MAIN,
  nowNs,
  overlappingExecutions,
  readExecutions,
  RECORDING_JOB_TYPE,
  sleep,
  startProcess,
  waitFor,
  WORKER_MAIN,
  type FarmProcess,
} from './chaos-farm';

// The chaos suite (issue 8): real manager and worker processes on real Postgres, killed with
// kill -9 in the middle of work. Slow, so `npm test` skips it; `npm run test:chaos` runs it.

const enabled = process.env.FARM_CHAOS === '1';
const suite = enabled ? describe : describe.skip;
const title = enabled
  ? 'chaos: real processes on real Postgres'
  : 'chaos suite skipped: run `npm run test:chaos` (FARM_CHAOS=1, needs Postgres and `npx tsc -b`)';

// `npm test` skips a suite only with a printed reason.
if (!enabled) console.log(title);

interface CheckRow {
  scenario: string;
  check: string;
  ok: boolean;
  detail: string;
}

suite(title, () => {
  jest.setTimeout(300_000);
  const results: CheckRow[] = [];
  const processes: FarmProcess[] = [];
  let testDb: TestDatabase;
  let dir: string;
  let dataDir: string;
  let port: number;
  let baseUrl: string;
  let secret: string;
  let adminToken: string;
  let manager: FarmProcess;

  const db = () => testDb.database.db;

  function startManager(extra: string[]): Promise<FarmProcess> {
    const proc = startProcess(
      [
        MANAGER_MAIN,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--data-dir',
        dataDir,
        '--no-discovery',
        '--no-local-worker',
        '--database-url',
        testDb.url!,
        '--registration-secret',
        secret,
        '--duty-interval',
        '500ms',
        '--task-timeout',
        '60s',
        '--log-format',
        'json',
        ...extra,
      ],
      path.join(dir, 'manager.log'),
    );
    processes.push(proc);
    return waitFor(
      'the manager to answer',
      async () => ((await fetch(`${baseUrl}/healthz`)).ok ? proc : undefined),
      60_000,
    );
  }

  function startWorker(name: string, env: NodeJS.ProcessEnv = {}): FarmProcess {
    const proc = startProcess(
      [
        WORKER_MAIN,
        '--manager',
        baseUrl,
        '--name',
        name,
        '--data-dir',
        path.join(dir, name),
        '--registration-secret',
        secret,
        '--no-discovery',
        '--task-types',
        'misc',
      ],
      path.join(dir, `${name}.log`),
      env,
    );
    processes.push(proc);
    return proc;
  }

  async function submit(name: string, tasks: number, record: string): Promise<string> {
    const submitted = await api(baseUrl, adminToken, 'POST', '/api/v1/jobs', {
      name,
      type: 'chaos-recorder',
      settings: { tasks, seconds: 2, record },
    });
    if (submitted.status !== 201) throw new Error(`submit: ${JSON.stringify(submitted.body)}`);
    return (submitted.body as { id: string }).id;
  }

  const jobStatus = async (jobId: string) =>
    (
      await db()
        .selectFrom('jobs')
        .select('status')
        .where('id', '=', jobId)
        .executeTakeFirstOrThrow()
    ).status;

  async function activeTaskOn(jobId: string, workerName: string): Promise<string | undefined> {
    const { rows } = await sql<{ id: string }>`
      select t.id from tasks t join workers w on w.id = t.worker_id
      where t.job_id = ${jobId} and t.status = 'active' and w.name = ${workerName}`.execute(db());
    return rows[0]?.id;
  }

  async function check(scenario: string, jobId: string, record: string, killedAt: bigint[]) {
    const add = (name: string, ok: boolean, detail = '') =>
      results.push({ scenario, check: name, ok, detail });
    const finished = await waitFor(
      `job ${scenario} to finish`,
      async () => {
        const status = await jobStatus(jobId);
        return ['completed', 'failed', 'canceled'].includes(status) ? status : undefined;
      },
      180_000,
      500,
    ).catch((error: Error) => error.message);
    add('job completed', finished === 'completed', String(finished));

    const tasks = await db()
      .selectFrom('tasks')
      .select(['name', 'status'])
      .where('job_id', '=', jobId)
      .execute();
    const notDone = tasks.filter((task) => task.status !== 'completed');
    add(
      'every task ended completed, once',
      notDone.length === 0,
      notDone.map((task) => `${task.name}: ${task.status}`).join(', ') || `${tasks.length} tasks`,
    );

    const executions = readExecutions(record);
    const lost = tasks.filter(
      (task) => !executions.some((e) => e.task === task.name && e.endNs !== undefined),
    );
    add(
      'no completed result lost',
      lost.length === 0,
      lost.map((task) => task.name).join(', ') || `${executions.length} executions`,
    );
    // A task that completed must not be started again afterwards.
    const rerun = tasks.filter((task) => {
      const ends = executions
        .filter((e) => e.task === task.name && e.endNs !== undefined)
        .map((e) => e.endNs!);
      if (ends.length === 0) return false;
      const firstEnd = ends.reduce((a, b) => (a < b ? a : b));
      return executions.some((e) => e.task === task.name && e.startNs > firstEnd);
    });
    add(
      'no task ran again after it completed',
      rerun.length === 0,
      rerun.map((task) => task.name).join(', '),
    );
    const overlaps = overlappingExecutions(executions, killedAt);
    add('no task ran on two workers at once', overlaps.length === 0, overlaps.join('; '));

    const { counters, rows } = await countersAndRows(db(), jobId);
    add(
      'job counters match its task rows',
      JSON.stringify(counters) === JSON.stringify(rows),
      JSON.stringify(counters) === JSON.stringify(rows)
        ? ''
        : `${JSON.stringify(counters)} vs ${JSON.stringify(rows)}`,
    );
  }

  beforeAll(async () => {
    for (const main of [MANAGER_MAIN, WORKER_MAIN]) {
      if (!fs.existsSync(main)) throw new Error(`${main} is missing: run npx tsc -b first`);
    }
    process.env.FARM_TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
    testDb = await createTestDatabase('postgres');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-chaos-'));
    dataDir = path.join(dir, 'manager');
    fs.mkdirSync(path.join(dataDir, 'job-types'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'job-types', 'chaos-recorder.js'), RECORDING_JOB_TYPE);
    port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    secret = randomBytes(16).toString('hex');
    // Workers beat every 10 s (and a busy worker's touch is throttled to 5 s): a worker timeout
    // below about 15 s marks healthy workers error (the first run of this suite showed it).
    manager = await startManager(['--worker-timeout', '15s']);
    adminToken = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  }, 120_000);

  afterAll(async () => {
    await Promise.all(processes.map((proc) => proc.stop()));
    await testDb?.dispose();
    const width = Math.max(...results.map((row) => row.check.length), 5);
    const lines = [
      `${'scenario'.padEnd(28)} ${'check'.padEnd(width)} result  detail`,
      ...results.map(
        (row) =>
          `${row.scenario.padEnd(28)} ${row.check.padEnd(width)} ${row.ok ? 'ok    ' : 'FAILED'}  ${row.detail}`,
      ),
    ];
    console.log(`chaos suite (logs in ${dir})\n${lines.join('\n')}`);
  });

  it('kill -9 a worker mid-task: its task goes to another worker', async () => {
    const a = startWorker('chaos-a');
    startWorker('chaos-b');
    const record = path.join(dir, 'worker-kill.record');
    const jobId = await submit('worker-kill', 6, record);
    await waitFor('a task on chaos-a', () => activeTaskOn(jobId, 'chaos-a'), 60_000);
    await sleep(500);
    a.kill9();
    const killedAt = [nowNs()];
    await check('kill -9 worker mid-task', jobId, record, killedAt);
    expect(results.filter((row) => !row.ok && row.scenario === 'kill -9 worker mid-task')).toEqual(
      [],
    );
  });

  it('kill -9 the manager mid-job and start it again: the job finishes', async () => {
    startWorker('chaos-c');
    const record = path.join(dir, 'manager-kill.record');
    const jobId = await submit('manager-kill', 8, record);
    await waitFor(
      'the job to be half-way',
      async () => {
        const job = await db()
          .selectFrom('jobs')
          .select(['tasks_completed', 'tasks_active'])
          .where('id', '=', jobId)
          .executeTakeFirstOrThrow();
        return job.tasks_completed >= 1 && job.tasks_active >= 1 ? true : undefined;
      },
      90_000,
    );
    manager.kill9();
    await sleep(1500);
    // Longer than the workers' reconnect back-off: they were alive all along.
    manager = await startManager(['--worker-timeout', '30s']);
    await check('kill -9 manager mid-job', jobId, record, []);
    expect(results.filter((row) => !row.ok && row.scenario === 'kill -9 manager mid-job')).toEqual(
      [],
    );
  });

  it('a worker that fails every task: others finish the job, the broken one is blocklisted', async () => {
    const broken = startWorker('chaos-broken', { CHAOS_BROKEN: '1' });
    const scenario = 'worker failing every task';
    const record = path.join(dir, 'broken-worker.record');
    const jobId = await submit('broken-worker', 6, record);
    await check(scenario, jobId, record, []);
    const { rows } = await sql<{ failures: number; blocked: number }>`
      select
        (select count(*)::int from task_failures f join tasks t on t.id = f.task_id
          join workers w on w.id = f.worker_id
          where t.job_id = ${jobId} and w.name = 'chaos-broken') as failures,
        (select count(*)::int from job_blocklist b join workers w on w.id = b.worker_id
          where b.job_id = ${jobId} and w.name = 'chaos-broken') as blocked`.execute(db());
    const { failures, blocked } = rows[0]!;
    results.push({
      scenario,
      check: 'its failures recorded, then blocklisted',
      ok: failures >= 1 && (failures < 3 || blocked === 1),
      detail: `${failures} failures, ${blocked ? 'blocklisted' : 'not blocklisted'}`,
    });
    await broken.stop();
    expect(results.filter((row) => !row.ok && row.scenario === scenario)).toEqual([]);
  });
});
