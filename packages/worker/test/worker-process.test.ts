// The `farm-worker` program as a real process (the built bin) against the manager double:
// POSIX signals, exit codes, configuration errors.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, waitFor } from './fixtures/processes';
import { startFakeManager, type FakeManager } from './support/fake-manager';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'packages/worker/bin/farm-worker.js');
spawnSync('npx', ['tsc', '-b', 'packages/worker'], { cwd: ROOT, timeout: 180_000 });
const built = existsSync(path.join(ROOT, 'packages/worker/dist/main.js'));
if (!built) console.log('skipping the farm-worker process tests: the worker could not be built');

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr.on('data', (c: Buffer) => output.push(c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output, exited };
}

(built ? describe : describe.skip)('farm-worker process', () => {
  let fake: FakeManager;
  beforeEach(async () => {
    fake = await startFakeManager();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('sleeps on SIGUSR1, wakes on SIGUSR2, and signs off with exit 0 on SIGTERM', async () => {
    const worker = run(
      ['--manager', fake.url, '--data-dir', makeTempDir('proc'), '--no-discovery'],
      {
        FARM_REGISTRATION_SECRET: fake.secret,
      },
    );
    try {
      await waitFor(() => fake.ops('stateChanged').some((r) => r.body?.status === 'awake'), 20_000);
      worker.child.kill('SIGUSR1');
      await waitFor(() => fake.ops('stateChanged').some((r) => r.body?.status === 'asleep'), 5000);
      worker.child.kill('SIGUSR2');
      await waitFor(
        () => fake.ops('stateChanged').filter((r) => r.body?.status === 'awake').length === 2,
        5000,
      );
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(fake.ops('signOff')).toHaveLength(1);
    } finally {
      worker.child.kill('SIGKILL');
    }
  });

  it('exits with the restart code when the manager asks for a restart', async () => {
    const worker = run(
      ['--manager', fake.url, '--data-dir', makeTempDir('proc'), '--restart-exit-code', '42'],
      {
        FARM_REGISTRATION_SECRET: fake.secret,
      },
    );
    await waitFor(() => fake.ops('stateChanged').length > 0, 20_000);
    fake.push({ type: 'status-request', status: 'restart', lazy: false });
    expect(await worker.exited).toBe(42);
  });

  it('explains a wrong registration secret and exits 1', async () => {
    const worker = run(['--manager', fake.url, '--data-dir', makeTempDir('proc')], {
      FARM_REGISTRATION_SECRET: 'wrong',
    });
    expect(await worker.exited).toBe(1);
    expect(worker.output.join('')).toContain('wrong registration secret');
  });

  it('lists configuration problems and exits 2', async () => {
    const worker = run(['--manager', 'ftp://nope', '--tags']);
    expect(await worker.exited).toBe(2);
    const text = worker.output.join('');
    expect(text).toContain('manager: must be an http:// or https:// URL');
    expect(text).toContain('--tags: needs a value');
  });
});
