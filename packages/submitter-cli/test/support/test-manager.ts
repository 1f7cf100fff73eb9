import fs from 'node:fs';
import path from 'node:path';
// Tests start the real manager in-process from its source; no package export exists for it yet.
import { resolveConfig } from '../../../manager/src/config';
import { createManager, type RunningManager } from '../../../manager/src/create-manager';
import { makeTempDir } from './test-io';

/** A real manager on a free port with a fresh embedded database, and its admin token. */
export interface TestManager {
  url: string;
  token: string;
  dataDir: string;
  registrationSecret: string;
  manager: RunningManager;
  close(): Promise<void>;
}

/** Where the test farm's two-way `render` variable points on Linux. */
export const RENDER_ROOT = '/mnt/farm-test/renders';

/** Starts a manager with the bundled job types, discovery off and no local worker. */
export async function startTestManager(extraArgv: string[] = []): Promise<TestManager> {
  const dataDir = makeTempDir('farm-cli-manager-');
  fs.writeFileSync(
    path.join(dataDir, 'farm-manager.yaml'),
    [
      'variables:',
      '  render:',
      '    is_twoway: true',
      '    values:',
      `      - { platform: linux, value: ${RENDER_ROOT} }`,
      '      - { platform: windows, value: "R:\\\\renders" }',
      '',
    ].join('\n'),
  );
  const config = resolveConfig({
    env: {},
    argv: [
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--no-discovery',
      '--no-local-worker',
      '--log-level',
      'error',
      ...extraArgv,
    ],
  });
  const manager = await createManager(config);
  if (!manager.firstAdmin) throw new Error('the test manager created no admin');
  return {
    url: manager.url,
    token: manager.firstAdmin.token,
    dataDir,
    registrationSecret: manager.registrationSecret,
    manager,
    close: () => manager.close(),
  };
}
