import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Job, ScheduleRun } from '@farm/core';
import { testBackends } from '../support/test-database';
import { startTestManager, type TestManager } from '../support/test-manager';

// Issue 10 through the whole manager over HTTP: /metrics is Prometheus text whose numbers move as
// a job runs, a job waiting for another starts once that one completed (and says why it still
// waits when a dependency was canceled), and the real schedule duty submits a due run's job.

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses the text exposition format strictly enough to catch a malformed line; throws if one is. */
function parsePrometheusText(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const name = line.slice(7).split(' ', 1)[0]!;
      if (!METRIC_NAME.test(name)) throw new Error(`bad HELP line: ${line}`);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      if (!METRIC_NAME.test(name ?? '') || !TYPES.has(type ?? '')) {
        throw new Error(`bad TYPE line: ${line}`);
      }
      if (types.has(name!)) throw new Error(`TYPE given twice for ${name}`);
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`bad sample line: ${line}`);
    const [, name, , labelText, valueText] = match;
    const labels: Record<string, string> = {};
    if (labelText) {
      LABEL.lastIndex = 0;
      let consumed = 0;
      for (let m = LABEL.exec(labelText); m; m = LABEL.exec(labelText)) {
        labels[m[1]!] = m[2]!;
        consumed = LABEL.lastIndex;
        if (m[3] === '') break;
      }
      if (consumed !== labelText.length) throw new Error(`bad labels: ${line}`);
    }
    const value =
      valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    // prom-client prints NaN as `Nan`; Prometheus reads NaN in any letter case.
    if (Number.isNaN(value) && valueText?.toLowerCase() !== 'nan')
      throw new Error(`bad value: ${line}`);
    const base = name!.replace(/_(bucket|sum|count|total|created)$/, '');
    if (!types.has(name!) && !types.has(base)) throw new Error(`sample without TYPE: ${line}`);
    samples.push({ name: name!, labels, value });
  }
  return samples;
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of testBackends()) {
  describe(`metrics, schedules and job dependencies end to end [${backend}]`, () => {
    let farm: TestManager;
    beforeAll(async () => {
      farm = await startTestManager(backend);
    }, 120_000);
    afterAll(() => farm?.stop());

    const api = async (
      method: string,
      path: string,
      token: string | null,
      body?: unknown,
    ): Promise<{ status: number; body: any; text: string; type: string | null }> => {
      const response = await fetch(`${farm.url}${path}`, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      const type = response.headers.get('content-type');
      const json = type?.includes('json') && text ? JSON.parse(text) : undefined;
      return { status: response.status, body: json, text, type };
    };
    const scrape = async (): Promise<Sample[]> => {
      const response = await api('GET', '/metrics', farm.adminToken);
      expect(response.status).toBe(200);
      expect(response.type).toMatch(/^text\/plain/);
      return parsePrometheusText(response.text);
    };
    const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
      for (let i = 0; i < 150; i++) {
        const value = await probe();
        if (value !== undefined) return value;
        await sleep(100);
      }
      throw new Error(`timed out waiting for ${what}`);
    };
    const submit = (name: string, extra: Record<string, unknown> = {}) =>
      api('POST', '/api/v1/jobs', farm.adminToken, {
        name,
        type: 'echo-sleep-test',
        settings: { message: 'hi', sleep_repeats: 1 },
        ...extra,
      });

    let workerToken: string;
    const runClaimedTask = async (): Promise<{ jobId: string } | null> => {
      const claim = await api('POST', '/api/v1/worker/claim', workerToken, { waitMs: 0 });
      if (claim.status === 204) return null;
      expect(claim.status).toBe(200);
      const taskPath = `/api/v1/worker/tasks/${claim.body.id}/update`;
      expect((await api('POST', taskPath, workerToken, { status: 'active' })).status).toBe(204);
      await sleep(20);
      const done = await api('POST', taskPath, workerToken, { status: 'completed' });
      expect(done.status).toBe(204);
      return { jobId: claim.body.jobId };
    };

    it('refuses /metrics without a credential', async () => {
      expect((await api('GET', '/metrics', null)).status).toBe(401);
    });

    it('keeps a dependent job waiting until its dependency completed, then runs it; /metrics moves', async () => {
      const before = await scrape();
      expect(valueOf(before, 'farm_workers', { status: 'awake' })).toBe(0);
      const completedBefore = valueOf(before, 'farm_jobs', { status: 'completed' });

      const first = await submit('first');
      expect(first.status).toBe(201);
      const second = await submit('second', { dependsOnJobs: [first.body.id] });
      expect(second.status).toBe(201);
      expect(second.body).toMatchObject({ status: 'waiting', dependsOnJobs: [first.body.id] });
      expect(second.body.activity).toContain('"first"');

      const unknown = await submit('third', {
        dependsOnJobs: ['00000000-0000-4000-8000-000000000000'],
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.details.issues[0].path).toBe('dependsOnJobs/0');

      const waitingScrape = await scrape();
      expect(valueOf(waitingScrape, 'farm_jobs', { status: 'waiting' })).toBe(1);
      expect(valueOf(waitingScrape, 'farm_tasks', { status: 'queued' })).toBe(
        first.body.taskCounts.total + second.body.taskCounts.total,
      );
      // Only the first job's runnable task (the others depend on it) can be claimed.
      expect(valueOf(waitingScrape, 'farm_queue_depth', { task_type: 'misc' })).toBe(1);

      const registered = await api('POST', '/api/v1/worker/register', null, {
        secret: farm.manager.registrationSecret,
        name: 'metrics-worker',
        platform: 'linux',
        taskTypes: ['misc'],
      });
      workerToken = registered.body.token;
      await api('POST', '/api/v1/worker/sign-on', workerToken, {
        name: 'metrics-worker',
        platform: 'linux',
        taskTypes: ['misc'],
        version: 'test',
      });
      await api('POST', '/api/v1/worker/state-changed', workerToken, { status: 'awake' });

      // Every task handed out belongs to the first job; the second is not claimable yet.
      for (let i = 0; i < first.body.taskCounts.total; i++) {
        expect(await runClaimedTask()).toEqual({ jobId: first.body.id });
      }
      expect((await api('GET', `/api/v1/jobs/${first.body.id}`, farm.adminToken)).body.status).toBe(
        'completed',
      );

      const released = await waitFor('the second job to start', async () => {
        const job = await api('GET', `/api/v1/jobs/${second.body.id}`, farm.adminToken);
        return job.body.status === 'queued' ? (job.body as Job) : undefined;
      });
      expect(released.dependsOnJobs).toEqual([first.body.id]);
      expect(await runClaimedTask()).toEqual({ jobId: second.body.id });

      const after = await scrape();
      expect(valueOf(after, 'farm_jobs', { status: 'completed' })).toBe(completedBefore + 1);
      expect(valueOf(after, 'farm_jobs', { status: 'waiting' })).toBe(0);
      expect(valueOf(after, 'farm_workers', { status: 'awake' })).toBe(1);
      expect(
        valueOf(after, 'farm_task_duration_seconds_count', { status: 'completed' }),
      ).toBeGreaterThanOrEqual(first.body.taskCounts.total);
      expect(valueOf(after, 'farm_task_queue_wait_seconds_count')).toBeGreaterThanOrEqual(
        first.body.taskCounts.total + 1,
      );
      expect(
        valueOf(after, 'farm_http_request_duration_seconds_count', { operation: 'submitJob' }),
      ).toBeGreaterThanOrEqual(3);
      expect(valueOf(after, 'farm_event_fanout_lag_seconds_count')).toBeGreaterThan(0);
      expect(valueOf(after, 'process_cpu_seconds_total')).toBeGreaterThan(0);

      // The example dashboard (docs/grafana) only queries metrics the manager serves.
      const dashboard = fs.readFileSync(
        path.join(__dirname, '../../../../docs/grafana/farm-dashboard.json'),
        'utf8',
      );
      const queried = new Set(dashboard.match(/\b(farm|process)_[a-z_]+/g));
      const served = new Set(after.map((sample) => sample.name));
      expect([...queried].filter((name) => !served.has(name))).toEqual([]);
    });

    it('keeps a job waiting on a canceled dependency and says why', async () => {
      const blocker = await submit('blocker');
      const blocked = await submit('blocked', { dependsOnJobs: [blocker.body.id] });
      expect(blocked.body.status).toBe('waiting');
      const canceled = await api(
        'POST',
        `/api/v1/jobs/${blocker.body.id}/actions`,
        farm.adminToken,
        {
          action: 'cancel',
        },
      );
      expect(canceled.status).toBeLessThan(300);
      const waiting = await waitFor('the activity to name the canceled job', async () => {
        const job = await api('GET', `/api/v1/jobs/${blocked.body.id}`, farm.adminToken);
        return job.body.activity.includes('canceled') ? (job.body as Job) : undefined;
      });
      expect(waiting.status).toBe('waiting');
      expect(waiting.activity).toMatch(/"blocker" is canceled; requeue it/);
      expect(waiting.allowedActions).toEqual(['cancel', 'delete', 'set-priority']);
      // Cancelling the waiting job itself ends it.
      const own = await api('POST', `/api/v1/jobs/${blocked.body.id}/actions`, farm.adminToken, {
        action: 'cancel',
      });
      expect(own.status).toBeLessThan(300);
      expect(
        (await api('GET', `/api/v1/jobs/${blocked.body.id}`, farm.adminToken)).body.status,
      ).toBe('canceled');
    });

    it('runs a due schedule with the real duty and keeps its history', async () => {
      const created = await api('POST', '/api/v1/schedules', farm.adminToken, {
        name: 'every minute',
        cron: '* * * * *',
        template: { name: 'scheduled', type: 'echo-sleep-test', settings: { message: 'tick' } },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ enabled: true, owner: { name: 'admin' } });
      const listed = await api('GET', '/api/v1/schedules', farm.adminToken);
      expect(listed.body.items.map((s: { name: string }) => s.name)).toEqual(['every minute']);

      // Make the next run due now rather than wait for the next minute.
      await sql`update schedules set next_run_at = now() - interval '1 second'
        where id = ${created.body.id}`.execute(farm.manager.database.db);
      const runs = await waitFor('the duty to fire the run', async () => {
        const list = await api('GET', `/api/v1/schedules/${created.body.id}/runs`, farm.adminToken);
        const items = list.body.items as ScheduleRun[];
        return items.length > 0 && items[0]!.jobId ? items : undefined;
      });
      expect(runs).toHaveLength(1);
      const job = await api('GET', `/api/v1/jobs/${runs[0]!.jobId}`, farm.adminToken);
      expect(job.body).toMatchObject({ name: 'scheduled', metadata: { schedule: 'every minute' } });

      const disabled = await api('PATCH', `/api/v1/schedules/${created.body.id}`, farm.adminToken, {
        enabled: false,
      });
      expect(disabled.body).toMatchObject({ enabled: false, nextRunAt: null });
      expect(
        (await api('DELETE', `/api/v1/schedules/${created.body.id}`, farm.adminToken)).status,
      ).toBe(204);
      expect(
        (await api('GET', `/api/v1/schedules/${created.body.id}`, farm.adminToken)).status,
      ).toBe(404);
    }, 30_000);
  });
}
