import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'winston';
import { JOB_STATUSES, TASK_STATUSES, WORKER_STATUSES, type BroadcastEvent } from '@farm/core';
import type { Database } from '../db';
import { TASK_COUNTER_COLUMNS } from '../db/tables';

/** The manager's Prometheus metrics: this process's own, plus farm gauges read from the database. */
export interface FarmMetrics {
  readonly registry: Registry;
  /** One HTTP request answered; `operation` is the operationId, or `other` (web app, 404s). */
  observeHttp(operation: string, method: string, status: number, seconds: number): void;
  /** Call as an event is handed to the event bus (before coalescing). */
  eventPublished(event: BroadcastEvent): void;
  /** Call from a bus listener: the moment the event reaches subscribers. */
  eventDelivered(event: BroadcastEvent): void;
  /** The text exposition, with the farm gauges freshly read. */
  render(): Promise<string>;
  readonly contentType: string;
  /** Stops the timer and reads what is still pending. */
  close(): Promise<void>;
}

export interface CreateMetricsOptions {
  /** Without a database only process and HTTP metrics are served (tests of the bare app). */
  db?: Kysely<Database>;
  logger?: Logger;
  /** How often claimed and finished tasks are looked up for their timings. @default 1000 */
  lookupIntervalMs?: number;
}

// Renders take a few ms to a few s; claims wait from milliseconds to days.
const HTTP_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LONG_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 86400];
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const FINISHED = new Set(['completed', 'failed', 'soft-failed']);
// At most this many tasks wait for their lookup; a burst beyond it is sampled, not queued forever.
const MAX_PENDING_LOOKUPS = 20_000;

function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/**
 * Creates the metrics of one manager process (a registry of its own, so several managers in one
 * process do not collide). Farm-wide gauges (jobs, tasks, workers by status; queue depth by task
 * type) are read from the database at each scrape, so every replica reports the same farm numbers
 * (aggregate them with `max`, not `sum`); everything else is this process's own.
 *
 * Task timings come from the events the services publish on this replica: a task that went from
 * queued to active was claimed here, one that went from active to completed or failed finished
 * here; their rows are looked up in batches (one query a second at most) for the timestamps.
 */
export function createMetrics(options: CreateMetricsOptions = {}): FarmMetrics {
  const registry = new Registry();
  // The event-loop delay is sampled every 100 ms, not every 10 ms (prom-client's default): the
  // sampling timer alone woke an idle manager 100 times a second, about 1 % of a core, a fifth of
  // what 5,000 idle workers may cost (docs/decisions/0028). Two scrapes less than 100 ms apart
  // may then read the lag gauges as NaN (printed `Nan`, which Prometheus parses).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const { db, logger } = options;

  const http = new Histogram({
    name: 'farm_http_request_duration_seconds',
    help: 'HTTP request latency by API operation (long polls included).',
    labelNames: ['operation', 'method', 'status_class'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  const fanOutLag = new Histogram({
    name: 'farm_event_fanout_lag_seconds',
    help: 'Time from publishing a live event to its delivery to this replica`s subscribers.',
    buckets: LAG_BUCKETS,
    registers: [registry],
  });
  const queueWait = new Histogram({
    name: 'farm_task_queue_wait_seconds',
    help: 'Time from a task being queued (its creation) to a worker claiming it, by task type.',
    labelNames: ['task_type'] as const,
    buckets: LONG_BUCKETS,
    registers: [registry],
  });
  const taskDuration = new Histogram({
    name: 'farm_task_duration_seconds',
    help: 'Time from a task starting to its end on a worker, by task type and outcome.',
    labelNames: ['task_type', 'status'] as const,
    buckets: LONG_BUCKETS,
    registers: [registry],
  });
  const jobs = new Gauge({
    name: 'farm_jobs',
    help: 'Jobs by status (farm-wide, from the database).',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const tasks = new Gauge({
    name: 'farm_tasks',
    help: 'Tasks by status (farm-wide, from the per-job counters).',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const workers = new Gauge({
    name: 'farm_workers',
    help: 'Workers by status (farm-wide, from the database).',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: 'farm_queue_depth',
    help: 'Tasks a worker could claim now (runnable, dependencies met, job running), by task type.',
    labelNames: ['task_type'] as const,
    registers: [registry],
  });

  const publishedAt = new WeakMap<object, number>();
  const claimed = new Set<string>();
  const finished = new Set<string>();
  let lookup: Promise<void> = Promise.resolve();

  const lookUpTimings = async (): Promise<void> => {
    if (!db || (claimed.size === 0 && finished.size === 0)) return;
    const claimedIds = [...claimed];
    const finishedIds = [...finished];
    claimed.clear();
    finished.clear();
    const ids = [...new Set([...claimedIds, ...finishedIds])];
    const rows = await db
      .selectFrom('tasks')
      .select(['id', 'type', 'status', 'created_at', 'started_at', 'finished_at'])
      .where('id', 'in', ids)
      .execute();
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const id of claimedIds) {
      const row = byId.get(id);
      if (!row?.started_at) continue;
      queueWait.observe(
        { task_type: row.type },
        Math.max(0, (row.started_at.getTime() - row.created_at.getTime()) / 1000),
      );
    }
    for (const id of finishedIds) {
      const row = byId.get(id);
      // Requeued and restarted meanwhile: its first run's end is gone, skip it.
      if (!row?.started_at || !row.finished_at || !FINISHED.has(row.status)) continue;
      taskDuration.observe(
        { task_type: row.type, status: row.status },
        Math.max(0, (row.finished_at.getTime() - row.started_at.getTime()) / 1000),
      );
    }
  };

  const flush = (): Promise<void> => {
    lookup = lookup.then(lookUpTimings).catch((error: unknown) => {
      logger?.warn('task timings could not be read for the metrics', { error: String(error) });
    });
    return lookup;
  };
  const timer = db ? setInterval(() => void flush(), options.lookupIntervalMs ?? 1000) : undefined;
  timer?.unref();

  const readFarm = async (database: Kysely<Database>): Promise<void> => {
    const [jobRows, taskRow, workerRows, depthRows] = await Promise.all([
      database
        .selectFrom('jobs')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('status')
        .execute(),
      // Sums of the per-job counters: one row per job read, never a count over the tasks.
      database
        .selectFrom('jobs')
        .select(
          Object.entries(TASK_COUNTER_COLUMNS).map(([status, column]) =>
            sql<number>`coalesce(sum(${sql.ref(column)}), 0)::int8`.as(status),
          ),
        )
        .executeTakeFirst(),
      database
        .selectFrom('workers')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('status')
        .execute(),
      // The claim index's own predicate (tasks_claimable_idx), so this reads the index only.
      sql<{ type: string; n: number }>`
        select t.type, count(*)::int8 as n from tasks t
        join jobs j on j.id = t.job_id
        where t.status in ('queued', 'soft-failed') and t.unmet_dependencies = 0
          and j.status in ('queued', 'active')
        group by t.type`.execute(database),
    ]);
    jobs.reset();
    for (const status of JOB_STATUSES) jobs.set({ status }, 0);
    for (const row of jobRows) jobs.set({ status: row.status }, Number(row.n));
    tasks.reset();
    for (const status of TASK_STATUSES) {
      tasks.set(
        { status },
        Number((taskRow as Record<string, unknown> | undefined)?.[status] ?? 0),
      );
    }
    workers.reset();
    for (const status of WORKER_STATUSES) workers.set({ status }, 0);
    for (const row of workerRows) workers.set({ status: row.status }, Number(row.n));
    queueDepth.reset();
    for (const row of depthRows.rows) queueDepth.set({ task_type: row.type }, Number(row.n));
  };

  return {
    registry,
    contentType: registry.contentType,
    observeHttp(operation, method, status, seconds) {
      http.observe(
        { operation, method: method.toUpperCase(), status_class: statusClass(status) },
        seconds,
      );
    },
    eventPublished(event) {
      publishedAt.set(event, performance.now());
      if (event.type !== 'task-updated') return;
      if (claimed.size + finished.size >= MAX_PENDING_LOOKUPS) return;
      const { task, previousStatus } = event;
      if (
        task.status === 'active' &&
        (previousStatus === 'queued' || previousStatus === 'soft-failed')
      ) {
        claimed.add(task.id);
      } else if (FINISHED.has(task.status) && previousStatus === 'active') {
        finished.add(task.id);
      }
    },
    eventDelivered(event) {
      const at = publishedAt.get(event);
      if (at === undefined) return;
      publishedAt.delete(event);
      fanOutLag.observe((performance.now() - at) / 1000);
    },
    async render() {
      if (db) {
        await flush();
        await readFarm(db);
      }
      return registry.metrics();
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
