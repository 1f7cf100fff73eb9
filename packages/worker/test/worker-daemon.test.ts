import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkerConfig } from '../src/config';
import type { HostStats } from '../src/protocol';
import { loadCredentials } from '../src/credentials';
import {
  createWorkerDaemon,
  type WorkerDaemon,
  type WorkerDaemonOptions,
} from '../src/worker-daemon';
import { silentLogger } from '../src/worker-logger';
import { startFakeManager, makeTask, type FakeManager } from './support/fake-manager';
import { isRunning, makeTempDir, waitFor } from './fixtures/processes';
import { solidPng } from './fixtures/png';

function configFor(fake: FakeManager, dataDir = makeTempDir('daemon')): WorkerConfig {
  return {
    managerUrl: fake.url,
    name: 'test-worker',
    dataDir,
    workDir: path.join(dataDir, 'work'),
    registrationSecret: fake.secret,
    taskTypes: ['misc'],
    tags: ['gpu'],
    restartExitCode: 75,
    discovery: false,
    test: false,
    help: false,
    version: false,
  };
}

const fastOptions: Partial<WorkerDaemonOptions> = {
  logger: silentLogger,
  backoff: { initialMs: 50, maxMs: 200 },
  killGraceMs: 1000,
  ffmpeg: null,
  logMaxDelayMs: 50,
  progressIntervalMs: 50,
};

const pidCommand = (seconds: number) => ({
  name: 'exec',
  parameters: { exe: 'sh', args: ['-c', `echo pid=$$; exec sleep ${seconds}`] },
});

const logOf = (u: { body: Record<string, unknown> }): string =>
  typeof u.body.log === 'string' ? u.body.log : '';

function pidFromLog(fake: FakeManager, taskId: string): number | undefined {
  const log = fake.updates
    .filter((u) => u.taskId === taskId)
    .map((u) => logOf(u))
    .join('');
  const match = /pid=(\d+)/.exec(log);
  return match ? Number(match[1]) : undefined;
}

function statuses(fake: FakeManager, taskId: string): string[] {
  return fake.updates
    .filter((u) => u.taskId === taskId && u.body.status)
    .map((u) => String(u.body.status));
}

describe('worker daemon against a manager double', () => {
  let fake: FakeManager;
  const daemons: WorkerDaemon[] = [];
  const start = async (
    config: WorkerConfig,
    extra: Partial<WorkerDaemonOptions> = {},
  ): Promise<WorkerDaemon> => {
    const daemon = createWorkerDaemon({ config, ...fastOptions, ...extra });
    daemons.push(daemon);
    await daemon.start();
    return daemon;
  };
  beforeEach(async () => {
    fake = await startFakeManager();
  });
  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
    await fake.close();
  });

  it('registers once, keeps its token private, signs on and waits for work without polling', async () => {
    const config = configFor(fake);
    const daemon = await start(config);
    expect(fake.registrations).toBe(1);
    const creds = await loadCredentials(config.dataDir);
    expect(creds?.managerUrl).toBe(fake.url);
    expect(statSync(path.join(config.dataDir, 'credentials.json')).mode & 0o777).toBe(0o600);
    const signOn = fake.ops('signOn')[0]!.body!;
    expect(signOn).toMatchObject({
      name: 'test-worker',
      platform: 'linux',
      taskTypes: ['misc'],
      tags: ['gpu'],
    });
    expect(typeof signOn.version).toBe('string');
    expect(signOn.hostStats).toMatchObject({
      memoryTotalBytes: expect.any(Number),
      diskFreeBytes: expect.any(Number),
    });
    await waitFor(() => fake.ops('stateChanged').some((r) => r.body?.status === 'awake'));
    expect(daemon.status).toBe('awake');

    // Idle: one claim, then it waits for a push instead of asking again and again.
    await new Promise((r) => setTimeout(r, 600));
    expect(fake.ops('claim').length).toBeLessThanOrEqual(2);
    await daemon.stop();

    // A second start reuses the stored credentials.
    await start(config);
    expect(fake.registrations).toBe(1);
  });

  it('claims on a work-available push and reports a task from active to completed, logs in order', async () => {
    await start(configFor(fake));
    await waitFor(() => fake.ops('claim').length >= 1);
    const task = makeTask([
      { name: 'echo', parameters: { message: 'first' } },
      { name: 'sleep', parameters: { duration_in_seconds: 0.2 } },
      { name: 'echo', parameters: { message: 'second' } },
    ]);
    fake.queue.push(task);
    fake.push({ type: 'work-available' });
    await waitFor(() => statuses(fake, task.id).includes('completed'), 5000);
    const mine = fake.updates.filter((u) => u.taskId === task.id);
    expect(mine[0]!.body).toMatchObject({ status: 'active' });
    expect(mine[mine.length - 1]!.body).toMatchObject({ status: 'completed', progress: 1 });
    const log = mine.map((u) => logOf(u)).join('');
    expect(log.indexOf('echo: first')).toBeGreaterThanOrEqual(0);
    expect(log.indexOf('echo: second')).toBeGreaterThan(log.indexOf('echo: first'));
    const progress = mine
      .map((u) => u.body.progress)
      .filter((p): p is number => typeof p === 'number');
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('uploads only the newest image a program writes into its output folder while the task runs', async () => {
    const config = configFor(fake);
    await start(config);
    await waitFor(() => fake.ops('claim').length >= 1);
    const sources = makeTempDir('frames');
    const frames = [1, 2, 3, 4, 5].map((i) => {
      const file = path.join(sources, `src_${i}.png`);
      writeFileSync(file, solidPng(16 + i, 16, [i * 40, 0, 0]));
      return file;
    });
    const outputDir = path.join(makeTempDir('render'), 'frames');
    // A non-Blender program: it makes its folder, writes five frames at once, then keeps running.
    const script = [
      `mkdir -p '${outputDir}'`,
      ...frames.map((f, i) => `cp '${f}' '${outputDir}/frame_${i + 1}.png'`),
      'sleep 1.5',
    ].join(' && ');
    const task = makeTask([
      { name: 'exec', parameters: { exe: 'sh', args: ['-c', script], outputDir } },
    ]);
    fake.queue.push(task);
    fake.push({ type: 'work-available' });
    await waitFor(() => statuses(fake, task.id).includes('completed'), 10_000);
    expect(fake.uploads.map((u) => [u.taskId, u.contentType])).toEqual([[task.id, 'image/png']]);
    expect(fake.uploads[0]!.data.equals(readFileSync(frames[4]!))).toBe(true);
  });

  it('fails a task whose command fails, with the reason in the log and as failureReason', async () => {
    await start(configFor(fake));
    const task = makeTask([
      { name: 'exec', parameters: { exe: 'sh', args: ['-c', 'echo about to fail; exit 3'] } },
    ]);
    fake.queue.push(task);
    fake.push({ type: 'work-available' });
    await waitFor(() => statuses(fake, task.id).includes('failed'), 5000);
    const final = fake.updates.filter((u) => u.taskId === task.id && u.body.status === 'failed')[0]!
      .body;
    expect(String(final.failureReason)).toContain('exited with code 3');
    const log = fake.updates
      .filter((u) => u.taskId === task.id)
      .map((u) => logOf(u))
      .join('');
    expect(log).toContain('about to fail');
    expect(log).toContain('task failed: ');
  });

  it('kills the running program within a second of a stop-task push and reports the stop', async () => {
    const daemon = await start(configFor(fake));
    const task = makeTask([pidCommand(30)]);
    fake.queue.push(task);
    fake.push({ type: 'work-available' });
    await waitFor(() => pidFromLog(fake, task.id) !== undefined, 5000);
    const pid = pidFromLog(fake, task.id)!;
    expect(isRunning(pid)).toBe(true);
    const sent = Date.now();
    fake.push({ type: 'stop-task', taskId: task.id, reason: 'job canceled' });
    await waitFor(() => !isRunning(pid), 2000);
    expect(Date.now() - sent).toBeLessThan(1000);
    await waitFor(() => daemon.currentTaskId === undefined);
    // Reported as failed so a canceled or paused job can settle; the manager decides what it means.
    await waitFor(() => statuses(fake, task.id).length === 2);
    expect(statuses(fake, task.id)).toEqual(['active', 'failed']);
    const stopReport = fake.updates.find(
      (u) => u.taskId === task.id && u.body?.status === 'failed',
    );
    expect(String(stopReport?.body?.failureReason)).toContain('job canceled');
  });

  it('sleeps at once on an immediate request, claims nothing while asleep, and wakes again', async () => {
    const daemon = await start(configFor(fake));
    const task = makeTask([pidCommand(30)]);
    fake.queue.push(task);
    fake.push({ type: 'work-available' });
    await waitFor(() => pidFromLog(fake, task.id) !== undefined, 5000);
    const pid = pidFromLog(fake, task.id)!;
    fake.push({ type: 'status-request', status: 'asleep', lazy: false });
    await waitFor(() => !isRunning(pid), 2000);
    await waitFor(() => fake.ops('stateChanged').some((r) => r.body?.status === 'asleep'));
    expect(daemon.status).toBe('asleep');
    const claims = fake.ops('claim').length;
    fake.push({ type: 'work-available' });
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.ops('claim').length).toBe(claims);

    fake.push({ type: 'status-request', status: 'awake', lazy: false });
    await waitFor(() => fake.ops('claim').length > claims);
    expect(daemon.status).toBe('awake');
  });

  it('does not wait for a long-polling claim to end before going to sleep', async () => {
    // This manager holds claims for the whole wait, as the real one does over HTTP.
    fake.respond = (req) =>
      req.op === 'claim'
        ? new Promise((resolve) => setTimeout(() => resolve({ status: 204 }), 5000))
        : undefined;
    const daemon = await start(configFor(fake));
    await waitFor(() => fake.ops('claim').length === 1);
    const asked = Date.now();
    fake.push({ type: 'status-request', status: 'asleep', lazy: true });
    await waitFor(() => fake.ops('stateChanged').some((r) => r.body?.status === 'asleep'), 2000);
    expect(Date.now() - asked).toBeLessThan(1000);
    expect(daemon.status).toBe('asleep');
  });

  it('asks again at once when the manager held its claim for the whole long poll', async () => {
    fake.respond = (req) =>
      req.op === 'claim'
        ? new Promise((resolve) => setTimeout(() => resolve({ status: 204 }), 300))
        : undefined;
    await start(configFor(fake), { claimWaitMs: 300 });
    await new Promise((r) => setTimeout(r, 1600));
    // Back to back long polls (about five in 1.6 s), where a 204 at once would mean a wait.
    expect(fake.ops('claim').length).toBeGreaterThanOrEqual(4);
    expect(fake.ops('claim').length).toBeLessThanOrEqual(6);
  });

  it('lets the task finish before a lazy request takes effect', async () => {
    const daemon = await start(configFor(fake));
    const task = makeTask([{ name: 'sleep', parameters: { duration_in_seconds: 0.5 } }]);
    fake.queue.push(task);
    fake.push({ type: 'work-available' });
    await waitFor(() => daemon.currentTaskId === task.id, 5000);
    fake.push({ type: 'status-request', status: 'asleep', lazy: true });
    // What the manager hears matters: the completion first, then the new status.
    await waitFor(() => fake.ops('stateChanged').some((r) => r.body?.status === 'asleep'), 5000);
    expect(daemon.status).toBe('asleep');
    expect(statuses(fake, task.id)).toEqual(['active', 'completed']);
    const completedAt = fake.requests.findIndex(
      (r) => r.op === 'updateTask' && r.body?.status === 'completed',
    );
    const asleepAt = fake.requests.findIndex(
      (r) => r.op === 'stateChanged' && r.body?.status === 'asleep',
    );
    expect(asleepAt).toBeGreaterThan(completedAt);
  });

  it('abandons a task the manager answers 409 for, stopping its program', async () => {
    const daemon = await start(configFor(fake));
    const task = makeTask([
      {
        name: 'exec',
        parameters: {
          exe: 'sh',
          args: ['-c', 'echo pid=$$; while true; do echo tick; sleep 0.05; done'],
        },
      },
    ]);
    let reassigned = false;
    let refused = 0;
    fake.respond = (req) => {
      if (!reassigned || req.op !== 'updateTask') return undefined;
      refused++;
      return {
        status: 409,
        body: { code: 'conflict', message: 'the task belongs to another worker' },
      };
    };
    fake.queue.push(task);
    fake.push({ type: 'work-available' });
    await waitFor(() => pidFromLog(fake, task.id) !== undefined, 5000);
    const pid = pidFromLog(fake, task.id)!;
    reassigned = true;
    await waitFor(() => !isRunning(pid), 3000);
    await waitFor(() => daemon.currentTaskId === undefined);
    // One refusal is enough: the task's other queued updates are dropped, not sent one by one.
    expect(refused).toBe(1);
    expect(statuses(fake, task.id)).toEqual(['active']);
    // And the worker goes on claiming work.
    const claims = fake.ops('claim').length;
    fake.push({ type: 'work-available' });
    await waitFor(() => fake.ops('claim').length > claims);
  });

  it('hands the running task back when stopped, after sending its log', async () => {
    const daemon = await start(configFor(fake));
    const task = makeTask([pidCommand(30)]);
    fake.queue.push(task);
    fake.push({ type: 'work-available' });
    await waitFor(() => pidFromLog(fake, task.id) !== undefined, 5000);
    const pid = pidFromLog(fake, task.id)!;
    expect(await daemon.stop()).toBe(0);
    expect(isRunning(pid)).toBe(false);
    const signOff = fake.ops('signOff');
    expect(signOff).toHaveLength(1);
    expect(signOff[0]!.body).toEqual({ handBackTaskIds: [task.id] });
    expect(statuses(fake, task.id)).toEqual(['active']);
    const lastUpdate = fake.requests.map((r) => r.op).lastIndexOf('updateTask');
    expect(fake.requests.map((r) => r.op).indexOf('signOff')).toBeGreaterThan(lastUpdate);
  });

  it('exits with the restart code after signing off when asked to restart', async () => {
    const daemon = await start(configFor(fake));
    fake.push({ type: 'status-request', status: 'restart', lazy: true });
    expect(await daemon.exited).toBe(75);
    expect(fake.ops('signOff')).toHaveLength(1);
  });

  it('registers again when the manager forgets its token', async () => {
    const daemon = await start(configFor(fake));
    const first = daemon.workerId;
    fake.tokens.clear();
    fake.dropSockets();
    await waitFor(() => fake.registrations === 2, 5000);
    await waitFor(() => fake.ops('signOn').length === 2, 5000);
    expect(daemon.workerId).not.toBe(first);
  });

  it('beats less often while idle than while running a task', async () => {
    await start(configFor(fake), { heartbeatIntervalMs: 100, idleHeartbeatIntervalMs: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Idle: one beat a second.
    expect(fake.ops('heartbeat').length).toBeLessThanOrEqual(2);
    const task = makeTask([{ name: 'exec', parameters: { exe: 'sh', args: ['-c', 'sleep 2'] } }]);
    fake.queue.push(task);
    fake.push({ type: 'work-available' });
    await waitFor(() => statuses(fake, task.id).includes('active'), 5000);
    const before = fake.ops('heartbeat').length;
    // Busy: every 100 ms, once the idle beat planned before the task has come.
    await waitFor(() => fake.ops('heartbeat').length >= before + 5, 3000);
  });

  it('sends host stats with its heartbeat', async () => {
    await start(configFor(fake), { heartbeatIntervalMs: 100, idleHeartbeatIntervalMs: 100 });
    await waitFor(() => fake.ops('heartbeat').length >= 2, 3000);
    const stats = fake.ops('heartbeat')[1]!.body!.hostStats as HostStats;
    expect(stats.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(stats.cpuPercent).toBeLessThanOrEqual(100);
    expect(stats.memoryUsedBytes).toBeLessThanOrEqual(stats.memoryTotalBytes);
    expect(stats.diskFreeBytes).toBeGreaterThan(0);
  });

  it('finishes its task while the manager is down and delivers every update in order when it is back', async () => {
    const config = configFor(fake);
    await start(config);
    const task = makeTask([
      { name: 'echo', parameters: { message: 'before' } },
      {
        name: 'exec',
        parameters: {
          exe: 'sh',
          args: ['-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do echo line-$i; sleep 0.1; done'],
        },
      },
      { name: 'echo', parameters: { message: 'after' } },
    ]);
    fake.queue.push(task);
    fake.push({ type: 'work-available' });
    await waitFor(() => statuses(fake, task.id).includes('active'), 5000);
    // The manager goes away mid-task and comes back on the same port later.
    const port = fake.port;
    const kept = {
      tokens: fake.tokens,
      updates: fake.updates,
      requests: fake.requests,
      secret: fake.secret,
    };
    await fake.close();
    await new Promise((r) => setTimeout(r, 1800));
    fake = await startFakeManager(port, kept);
    await waitFor(() => statuses(fake, task.id).includes('completed'), 10_000);
    const mine = fake.updates.filter((u) => u.taskId === task.id);
    const log = mine.map((u) => logOf(u)).join('');
    const order = [
      'echo: before',
      ...Array.from({ length: 10 }, (_, i) => `line-${i + 1}\n`),
      'echo: after',
    ];
    let at = -1;
    for (const piece of order) {
      const next = log.indexOf(piece, at + 1);
      expect(next).toBeGreaterThan(at);
      at = next;
    }
    expect(mine[mine.length - 1]!.body.status).toBe('completed');
    expect(statuses(fake, task.id)).toEqual(['active', 'completed']);
  });
});
