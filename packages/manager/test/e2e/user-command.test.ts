import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../../src/config';
import { createManager, type RunningManager } from '../../src/create-manager';
import { createLogger } from '../../src/logging';
import { managerIsBuilt } from '../support/manager-process';
import { createTestDatabase, testBackends } from '../support/test-database';

// `farm-manager user add|reset-password|list` (issue 7) run as the real command, on a real
// database, then the password it set is used to log in over HTTP to a manager on that database.

const MAIN = path.join(__dirname, '../../dist/main.js');

const canRun = managerIsBuilt();
if (!canRun) {
  console.warn('skipping the user command test: it runs the built manager (npx tsc -b)');
}

interface Target {
  dataDir: string;
  databaseUrl?: string;
}

/** Runs `farm-manager user ...` without a terminal; answers its exit code and output. */
function farmManagerUser(
  target: Target,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.FARM_USER_PASSWORD;
  if (env.FARM_USER_PASSWORD) childEnv.FARM_USER_PASSWORD = env.FARM_USER_PASSWORD;
  delete childEnv.DATABASE_URL;
  if (target.databaseUrl) childEnv.DATABASE_URL = target.databaseUrl;
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [MAIN, 'user', ...args, '--data-dir', target.dataDir],
      { env: childEnv, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

async function startManager(target: Target): Promise<RunningManager> {
  const config = resolveConfig({
    argv: [
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      target.dataDir,
      '--no-discovery',
      '--no-local-worker',
    ],
    env: target.databaseUrl ? { DATABASE_URL: target.databaseUrl } : {},
  });
  return createManager(config, { logger: createLogger({ level: 'error', format: 'json' }) });
}

async function login(manager: RunningManager, name: string, password: string): Promise<number> {
  const response = await fetch(`${manager.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });
  await response.text();
  return response.status;
}

for (const backend of testBackends()) {
  (canRun ? describe : describe.skip)(`farm-manager user [${backend}]`, () => {
    let target: Target;
    let dispose: () => Promise<void>;

    beforeAll(async () => {
      const testDb = await createTestDatabase(backend);
      if (backend === 'pglite') {
        // PGlite allows one process at a time: the command and the manager take turns.
        await testDb.database.close();
        target = { dataDir: testDb.dataDir! };
      } else {
        target = {
          dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'farm-user-cmd-')),
          databaseUrl: testDb.url!,
        };
      }
      dispose = async () => {
        await testDb.dispose().catch(() => undefined);
        if (backend === 'postgres') fs.rmSync(target.dataDir, { recursive: true, force: true });
      };
    }, 120_000);
    afterAll(() => dispose?.());

    it('adds users, lists them, resets a password; the passwords log in over HTTP', async () => {
      const added = await farmManagerUser(target, ['add', 'alice', '--admin'], {
        FARM_USER_PASSWORD: 'alice first password',
      });
      expect(added).toMatchObject({ code: 0 });
      expect(added.stdout).toContain('Added user alice (farm admin).');
      expect(added.stdout).not.toContain('alice first password');

      // No password in the environment and no terminal: a random one, printed once.
      const generated = await farmManagerUser(target, ['add', 'bob']);
      expect(generated.code).toBe(0);
      const bobPassword = /Password \(shown once\): (\S+)/.exec(generated.stdout)?.[1];
      expect(bobPassword).toBeDefined();
      expect(bobPassword!.length).toBeGreaterThanOrEqual(12);

      const carol = await farmManagerUser(
        target,
        ['add', 'carol', '--project', 'default', '--role', 'viewer'],
        { FARM_USER_PASSWORD: 'carol password' },
      );
      expect(carol.code).toBe(0);

      const taken = await farmManagerUser(target, ['add', 'bob'], {
        FARM_USER_PASSWORD: 'another password',
      });
      expect(taken.code).not.toBe(0);
      expect(taken.stderr).toMatch(/farm-manager: /);

      const listed = await farmManagerUser(target, ['list']);
      expect(listed.code).toBe(0);
      const lines = listed.stdout.trim().split('\n');
      expect(lines.find((line) => line.startsWith('alice\t'))).toMatch(/^alice\tadmin\tactive\t/);
      expect(lines.find((line) => line.startsWith('bob\t'))).toMatch(/^bob\t-\tactive\t/);
      expect(lines.find((line) => line.startsWith('carol\t'))).toContain('viewer@default');

      let manager = await startManager(target);
      try {
        expect(await login(manager, 'alice', 'alice first password')).toBe(200);
        expect(await login(manager, 'bob', bobPassword!)).toBe(200);
        expect(await login(manager, 'carol', 'carol password')).toBe(200);
        expect(await login(manager, 'alice', 'not her password')).toBe(401);
      } finally {
        await manager.close();
      }

      const reset = await farmManagerUser(target, ['reset-password', 'alice'], {
        FARM_USER_PASSWORD: 'alice second password',
      });
      expect(reset.code).toBe(0);
      expect(reset.stdout).toContain('Set a new password for alice');
      const unknown = await farmManagerUser(target, ['reset-password', 'nobody'], {
        FARM_USER_PASSWORD: 'whatever password',
      });
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toContain('there is no user "nobody"');

      manager = await startManager(target);
      try {
        expect(await login(manager, 'alice', 'alice second password')).toBe(200);
        expect(await login(manager, 'alice', 'alice first password')).toBe(401);
      } finally {
        await manager.close();
      }
    }, 120_000);
  });
}
