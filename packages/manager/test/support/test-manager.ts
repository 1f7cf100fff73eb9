import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig, type LogLevel } from '../../src/config';
import { createManager, type RunningManager } from '../../src/create-manager';
import { createLogger, type Logger } from '../../src/logging';
import { createTestDatabase, type TestBackend } from './test-database';

/** A real manager on a free port, on a fresh database of the given backend. */
export interface TestManager {
  readonly manager: RunningManager;
  readonly url: string;
  /** The first admin's API token. */
  readonly adminToken: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts the whole manager (`createManager`) as `npm start` would, minus discovery and the local
 * worker, on a copy of the migrated test database (PGlite) or a fresh Postgres database.
 */
export async function startTestManager(
  backend: TestBackend,
  extraArgv: string[] = [],
  options: { logger?: Logger } = {},
): Promise<TestManager> {
  const testDb = await createTestDatabase(backend);
  let dataDir: string;
  const env: Record<string, string> = {};
  if (backend === 'pglite') {
    // The manager opens the copied PGlite folder itself; PGlite allows one process at a time.
    await testDb.database.close();
    dataDir = testDb.dataDir!;
  } else {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-manager-'));
    env.DATABASE_URL = testDb.url!;
  }
  const config = resolveConfig({
    argv: [
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--no-discovery',
      '--no-local-worker',
      ...extraArgv,
    ],
    env,
  });
  const logger =
    options.logger ??
    createLogger({
      level: (process.env.FARM_TEST_LOG_LEVEL as LogLevel | undefined) ?? 'error',
      format: 'json',
    });
  const manager = await createManager(config, { logger });
  const adminToken = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  return {
    manager,
    url: manager.url,
    adminToken,
    dataDir,
    async stop() {
      await manager.close();
      await testDb.dispose().catch(() => undefined);
      if (backend === 'postgres') fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
