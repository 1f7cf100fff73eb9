import { createFarmClient, type Job, type TaskSummary, type WorkerSummary } from '@farm/core';
import { farm, makeTempDir, removeTempDirs } from './support/test-io';
import { startTestManager, type TestManager } from './support/test-manager';
import {
  startTestWorker,
  workerIsBuilt,
  WORKER_MAIN,
  type TestWorker,
} from './support/test-worker';

jest.setTimeout(90_000);

const haveWorker = workerIsBuilt();
if (!haveWorker) {
  console.warn(
    `skipping the watch-to-completion tests: ${WORKER_MAIN} is missing (run npx tsc -b)`,
  );
}
const describeWithWorker = haveWorker ? describe : describe.skip;

describeWithWorker('farm with a real worker', () => {
  let farmManager: TestManager;
  let worker: TestWorker;
  let env: Record<string, string>;

  beforeAll(async () => {
    // One failure fails a task for good, so a failing job ends without more workers to try it.
    farmManager = await startTestManager(['--max-task-failures', '1']);
    env = {
      FARM_URL: farmManager.url,
      FARM_TOKEN: farmManager.token,
      XDG_CONFIG_HOME: makeTempDir(),
    };
    worker = startTestWorker(farmManager.url, farmManager.registrationSecret, 'cli-test-worker');
    const api = createFarmClient({ url: farmManager.url, token: farmManager.token });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const workers: WorkerSummary[] = await api.listWorkers().catch(() => []);
      if (workers.some((w) => w.name === worker.name && w.status === 'awake')) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the worker did not come up:\n${worker.output()}`);
  });

  afterAll(async () => {
    await worker?.stop();
    await farmManager?.close();
    removeTempDirs();
  });

  it('submits with --watch and exits 0 when the job completes', async () => {
    const result = await farm(
      [
        'submit',
        'echo-sleep-test',
        '--set',
        'message=hello from the cli',
        '--set',
        'sleep_repeats=2',
        '--set',
        'sleep_duration_seconds=1',
        '--watch',
      ],
      { env },
    );
    if (result.code !== 0)
      throw new Error(`exit ${result.code}\n${result.stderr}\n${worker.output()}`);
    const id = result.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.stderr).toMatch(/\[#+\] 3\/3 tasks done, 0 failed, ETA \S+, completed\n/);
    expect(result.stderr).toMatch(new RegExp(`Job .+ \\(${id}\\) completed after `));

    const job = JSON.parse((await farm(['job', id, '--json'], { env })).stdout) as Job;
    expect(job.status).toBe('completed');

    const tasks = JSON.parse(
      (await farm(['tasks', id, '--json'], { env })).stdout,
    ) as TaskSummary[];
    expect(tasks.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    const log = await farm(['logs', tasks[0]!.id], { env });
    expect(log.code).toBe(0);
    expect(log.stdout).toContain('hello from the cli');
    const followed = await farm(['logs', tasks[0]!.id, '-f'], { env });
    expect(followed.code).toBe(0);
    expect(followed.stderr).toContain('the task is completed');
  });

  it('follows a running task log to its end with logs -f', async () => {
    const submit = await farm(
      [
        'submit',
        'echo-sleep-test',
        '--set',
        'message=follow me',
        '--set',
        'sleep_repeats=1',
        '--set',
        'sleep_duration_seconds=2',
      ],
      { env },
    );
    const id = submit.stdout.trim();
    const api = createFarmClient({ url: farmManager.url, token: farmManager.token });
    let sleepTask: TaskSummary | undefined;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      sleepTask = (await api.listJobTasks(id)).items.find(
        (t) => t.name === 'sleep-1' && t.status === 'active',
      );
      if (sleepTask) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(sleepTask).toBeDefined();
    // Polls so rare that only the websocket can end the follow within the test.
    const started = Date.now();
    const followed = await farm(['logs', sleepTask!.id, '-f'], { env, pollIntervalMs: 60_000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(followed.code).toBe(0);
    expect(followed.stderr).toContain('(the task is completed)');
    expect((await api.getTask(sleepTask!.id)).status).toBe('completed');
    expect(followed.stdout.length).toBeGreaterThan(0);
  });

  it('exits 3 when the watched job fails', async () => {
    const result = await farm(
      ['submit', 'shell-frames', '--set', 'command=false', '--set', 'frames=1', '--watch'],
      { env },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/ failed, ETA \S+, failed\n/);
    expect(result.stderr).toMatch(/Job .+ failed/);
  });

  it('lists the worker and asks it to sleep and wake', async () => {
    const list = await farm(['workers'], { env });
    expect(list.stdout).toMatch(/^cli-test-worker +\S+ +awake +linux /m);
    const sleep = await farm(['worker', 'sleep', 'cli-test-worker', '--after-task'], { env });
    expect(sleep.stderr).toBe('');
    expect(sleep.stdout).toMatch(/^cli-test-worker: sleep requested after the current task/);
    const wake = await farm(['worker', 'wake', 'cli-test-worker'], { env });
    expect(wake.code).toBe(0);
    const unknown = await farm(['worker', 'sleep', 'nobody'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('farm: no worker is named "nobody" (see farm workers)\n');
  });
  it('shows the worker, then shuts it down', async () => {
    const show = await farm(['worker', 'show', 'cli-test-worker'], { env });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^worker: +cli-test-worker \(/m);
    expect(show.stdout).toMatch(/^task types: +.*misc/m);
    const exited = new Promise<number | null>((resolve) =>
      worker.process.once('exit', (code) => resolve(code)),
    );
    const shutdown = await farm(['worker', 'shutdown', 'cli-test-worker'], { env });
    expect(shutdown.code).toBe(0);
    expect(shutdown.stdout).toMatch(/^cli-test-worker: shutdown requested/);
    await expect(exited).resolves.toBe(0);
  });
});
