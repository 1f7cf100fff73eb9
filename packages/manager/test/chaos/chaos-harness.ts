import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { Client } from 'pg';
import { createDatabase, type Database, type FarmDatabase } from '../../src/db';
import { countersAndRows } from '../support/counters';
import {
  api,
  MANAGER_MAIN,
  overlappingExecutions,
  readExecutions,
  RECORDING_JOB_TYPE,
  startProcess,
  waitFor,
  WORKER_MAIN,
  type Execution,
  type FarmProcess,
} from './chaos-farm';

// What every chaos scenario shares: starting managers and workers as real processes, submitting a
// recording job, the checks run after each scenario, and the table printed at the end.

/** One line of the table printed after the suite. */
export interface CheckRow {
  scenario: string;
  check: string;
  ok: boolean;
  detail: string;
}

/** Options of `startManager`. */
export interface ManagerStart {
  port: number;
  databaseUrl: string;
  /** The manager's data folder; made (with the chaos job type) when missing. */
  dataDir: string;
  /** Its log file's name in the harness folder. @default manager.log */
  logName?: string;
  /** More flags, after the defaults (a later flag wins). */
  extra?: string[];
}

/** Options of `check`. */
export interface CheckOptions {
  /** When workers were killed (ns): an execution that never ended ran until then. */
  killedAt?: bigint[];
  /**
   * Executions of these shell pids were frozen (SIGSTOP) at `atNs`: they count as ended then, so
   * a frozen run and the run that replaced it are not an overlap.
   */
  frozen?: { pids: ReadonlySet<string>; atNs: bigint };
  /** How long to wait for the job to end. @default 180 s */
  timeoutMs?: number;
}

export interface ChaosHarness {
  /** The folder with every log, record file and data folder of the run. */
  readonly dir: string;
  readonly secret: string;
  readonly results: CheckRow[];
  /** Starts a manager and resolves when `/healthz` answers. */
  startManager(options: ManagerStart): Promise<FarmProcess>;
  /** Starts a worker that runs `misc` tasks for the manager at `managerUrl`. */
  startWorker(name: string, managerUrl: string, env?: NodeJS.ProcessEnv): FarmProcess;
  /** Submits a recording job; resolves its id. */
  submit(
    baseUrl: string,
    token: string,
    name: string,
    settings: { tasks: number; seconds?: number; record: string },
  ): Promise<string>;
  /** Adds a row to the table. */
  add(scenario: string, check: string, ok: boolean, detail?: string): void;
  /** Waits for the job to end and checks the invariants every scenario must keep. */
  check(
    db: Kysely<Database>,
    scenario: string,
    jobId: string,
    record: string,
    options?: CheckOptions,
  ): Promise<void>;
  /** The failed rows of one scenario (for its `expect`). */
  failures(scenario: string): CheckRow[];
  /** Stops every process started here and prints the table. */
  finish(title: string): Promise<void>;
}

/** Creates a harness in a fresh temp folder. */
export function createChaosHarness(secret: string): ChaosHarness {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-chaos-'));
  const results: CheckRow[] = [];
  const processes: FarmProcess[] = [];
  const add = (scenario: string, check: string, ok: boolean, detail = '') =>
    results.push({ scenario, check, ok, detail });

  return {
    dir,
    secret,
    results,
    add,

    startManager(options) {
      fs.mkdirSync(path.join(options.dataDir, 'job-types'), { recursive: true });
      fs.writeFileSync(
        path.join(options.dataDir, 'job-types', 'chaos-recorder.js'),
        RECORDING_JOB_TYPE,
      );
      const baseUrl = `http://127.0.0.1:${options.port}`;
      const proc = startProcess(
        [
          MANAGER_MAIN,
          '--port',
          String(options.port),
          '--host',
          '127.0.0.1',
          '--data-dir',
          options.dataDir,
          '--no-discovery',
          '--no-local-worker',
          '--database-url',
          options.databaseUrl,
          '--registration-secret',
          secret,
          '--duty-interval',
          '500ms',
          '--task-timeout',
          '60s',
          '--log-format',
          'json',
          ...(options.extra ?? []),
        ],
        path.join(dir, options.logName ?? 'manager.log'),
      );
      processes.push(proc);
      return waitFor(
        'the manager to answer',
        async () => {
          if (proc.child.exitCode !== null) throw new Error('the manager exited');
          return (await fetch(`${baseUrl}/healthz`)).ok ? proc : undefined;
        },
        60_000,
      );
    },

    startWorker(name, managerUrl, env = {}) {
      const proc = startProcess(
        [
          WORKER_MAIN,
          '--manager',
          managerUrl,
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
    },

    async submit(baseUrl, token, name, settings) {
      const submitted = await api(baseUrl, token, 'POST', '/api/v1/jobs', {
        name,
        type: 'chaos-recorder',
        settings: { seconds: 2, ...settings },
      });
      if (submitted.status !== 201) throw new Error(`submit: ${JSON.stringify(submitted.body)}`);
      return (submitted.body as { id: string }).id;
    },

    async check(db, scenario, jobId, record, options = {}) {
      const finished = await waitFor(
        `job ${scenario} to finish`,
        async () => {
          const { status } = await db
            .selectFrom('jobs')
            .select('status')
            .where('id', '=', jobId)
            .executeTakeFirstOrThrow();
          return ['completed', 'failed', 'canceled'].includes(status) ? status : undefined;
        },
        options.timeoutMs ?? 180_000,
        500,
      ).catch((error: Error) => error.message);
      add(scenario, 'job completed', finished === 'completed', String(finished));

      const tasks = await db
        .selectFrom('tasks')
        .select(['name', 'status'])
        .where('job_id', '=', jobId)
        .execute();
      const notDone = tasks.filter((task) => task.status !== 'completed');
      add(
        scenario,
        'every task ended completed, once',
        notDone.length === 0,
        notDone.map((task) => `${task.name}: ${task.status}`).join(', ') || `${tasks.length} tasks`,
      );

      const executions = readExecutions(record);
      const lost = tasks.filter(
        (task) => !executions.some((e) => e.task === task.name && e.endNs !== undefined),
      );
      add(
        scenario,
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
        scenario,
        'no task ran again after it completed',
        rerun.length === 0,
        rerun.map((task) => task.name).join(', '),
      );
      const frozen = options.frozen;
      const running: Execution[] = frozen
        ? executions.map((e) =>
            frozen.pids.has(e.pid) && e.startNs < frozen.atNs
              ? { ...e, endNs: frozen.atNs, stopNs: undefined }
              : e,
          )
        : executions;
      const overlaps = overlappingExecutions(running, options.killedAt ?? []);
      add(
        scenario,
        'no task ran on two workers at once',
        overlaps.length === 0,
        overlaps.join('; '),
      );

      const { counters, rows } = await countersAndRows(db, jobId);
      const same = JSON.stringify(counters) === JSON.stringify(rows);
      add(
        scenario,
        'job counters match its task rows',
        same,
        same ? '' : `${JSON.stringify(counters)} vs ${JSON.stringify(rows)}`,
      );
      const { rows: unmet } = await sql<{ n: number }>`
        select count(*)::int as n from tasks t where t.job_id = ${jobId} and t.unmet_dependencies <>
          (select count(*) from task_dependencies d join tasks dep on dep.id = d.depends_on_id
            where d.task_id = t.id and dep.status <> 'completed')`.execute(db);
      if ((unmet[0]?.n ?? 0) > 0) {
        add(scenario, 'dependency counters match', false, `${unmet[0]!.n} tasks disagree`);
      }
    },

    failures(scenario) {
      return results.filter((row) => !row.ok && row.scenario === scenario);
    },

    async finish(title) {
      await Promise.all(processes.map((proc) => proc.stop()));
      if (results.length === 0) return;
      const width = Math.max(...results.map((row) => row.check.length), 5);
      const scenarioWidth = Math.max(...results.map((row) => row.scenario.length), 8);
      const lines = [
        `${'scenario'.padEnd(scenarioWidth)} ${'check'.padEnd(width)} result  detail`,
        ...results.map(
          (row) =>
            `${row.scenario.padEnd(scenarioWidth)} ${row.check.padEnd(width)} ${row.ok ? 'ok    ' : 'FAILED'}  ${row.detail}`,
        ),
      ];
      console.log(`${title} (logs in ${dir})\n${lines.join('\n')}`);
    },
  };
}

/** An empty database on a Postgres server: the manager under test migrates it itself. */
export interface EmptyDatabase {
  readonly url: string;
  /** A connection for the checks (opened once the manager has migrated the schema). */
  open(): Promise<FarmDatabase>;
  /** Closes the check connection and drops the database. */
  dispose(): Promise<void>;
}

/**
 * Creates an empty database on the server at `serverUrl` (a `postgres://` URL of any database
 * there). Empty rather than a migrated template: the processes under test may be a build of
 * another checkout (FARM_CHAOS_BUILD), whose migrations are the ones that must run.
 */
export async function createEmptyDatabase(serverUrl: string): Promise<EmptyDatabase> {
  const name = `farm_chaos_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let opened: FarmDatabase | undefined;
  return {
    url: url.toString(),
    async open() {
      opened ??= await createDatabase({ url: url.toString(), dataDir: os.tmpdir() });
      return opened;
    },
    async dispose() {
      await opened?.close().catch(() => undefined);
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
