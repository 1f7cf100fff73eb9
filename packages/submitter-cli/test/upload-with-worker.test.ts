import fs from 'node:fs';
import path from 'node:path';
import { createFarmClient, type TaskSummary, type WorkerSummary } from '@farm/core';
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
  console.warn(`skipping the upload-and-run test: ${WORKER_MAIN} is missing (run npx tsc -b)`);
}
const describeWithWorker = haveWorker ? describe : describe.skip;

describeWithWorker('a job reads its uploaded files through {checkouts}', () => {
  let manager: TestManager;
  let worker: TestWorker;
  let env: Record<string, string>;

  beforeAll(async () => {
    manager = await startTestManager(['--max-task-failures', '1']);
    env = { FARM_URL: manager.url, FARM_TOKEN: manager.token, XDG_CONFIG_HOME: makeTempDir() };
    worker = startTestWorker(manager.url, manager.registrationSecret, 'upload-test-worker');
    const api = createFarmClient({ url: manager.url, token: manager.token });
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
    await manager?.close();
    removeTempDirs();
  });

  it('runs a command on a file of the checkout, found by the worker at its own path', async () => {
    const folder = path.join(makeTempDir(), 'inputs');
    fs.mkdirSync(path.join(folder, 'data'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'data', 'message.txt'), 'hello from the file store\n');
    const result = await farm(
      [
        'submit',
        'shell-frames',
        '--upload',
        folder,
        '--upload-name',
        'cat-test',
        '--set',
        'command=cat {checkouts}/cat-test/data/message.txt',
        '--set',
        'frames=1',
        '--watch',
      ],
      { env },
    );
    if (result.code !== 0) {
      throw new Error(`exit ${result.code}\n${result.stderr}\n${worker.output()}`);
    }
    const id = result.stdout.trim();
    const tasks = JSON.parse(
      (await farm(['tasks', id, '--json'], { env })).stdout,
    ) as TaskSummary[];
    const log = await farm(['logs', tasks[0]!.id], { env });
    expect(log.stdout).toContain('hello from the file store');
  });
});
