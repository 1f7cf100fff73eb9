import path from 'node:path';
import { isFarmError } from '@farm/core';
import { resolveWorkerConfig, formatWorkerHelp, WORKER_OPTIONS } from '../src/config';

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (isFarmError(error)) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a validation error');
}

describe('resolveWorkerConfig', () => {
  it('uses the documented defaults', () => {
    const config = resolveWorkerConfig({ argv: [], env: {}, cwd: '/srv', hostname: 'node7' });
    expect(config).toMatchObject({
      managerUrl: undefined,
      name: 'node7',
      dataDir: '/srv/farm-worker-data',
      workDir: '/srv/farm-worker-data/work',
      taskTypes: ['blender', 'ffmpeg', 'file-management', 'misc'],
      tags: [],
      restartExitCode: 75,
      discovery: true,
      test: false,
    });
  });

  it('turns a scheme-less host:port into an http URL', () => {
    expect(
      resolveWorkerConfig({ argv: ['--manager', 'farm.local:8080'], env: {} }).managerUrl,
    ).toBe('http://farm.local:8080');
    expect(
      resolveWorkerConfig({ argv: ['--manager=https://farm.example/'], env: {} }).managerUrl,
    ).toBe('https://farm.example');
  });

  it('lets flags win over FARM_ variables, which win over the file', () => {
    const config = resolveWorkerConfig({
      argv: ['--name', 'from-flag'],
      env: {
        FARM_WORKER_NAME: 'from-env',
        FARM_WORKER_TAGS: 'gpu, Big-RAM',
        FARM_MANAGER_URL: 'm:1',
      },
      file: {
        name: 'from-file',
        tags: ['file-tag'],
        task_types: ['Blender', 'blender', 'misc'],
        restart_exit_code: 3,
      },
    });
    expect(config.name).toBe('from-flag');
    expect(config.tags).toEqual(['gpu', 'Big-RAM']);
    expect(config.taskTypes).toEqual(['blender', 'misc']);
    expect(config.restartExitCode).toBe(3);
    expect(config.managerUrl).toBe('http://m:1');
  });

  it('reads every option from its environment variable', () => {
    const config = resolveWorkerConfig({
      argv: [],
      cwd: '/w',
      env: {
        FARM_MANAGER_URL: 'http://a:1',
        FARM_WORKER_NAME: 'n',
        FARM_WORKER_DATA_DIR: 'd',
        FARM_WORKER_WORK_DIR: '/scratch',
        FARM_REGISTRATION_SECRET: 's',
        FARM_WORKER_TASK_TYPES: 'ffmpeg',
        FARM_WORKER_TAGS: 't',
        FARM_WORKER_RESTART_EXIT_CODE: '42',
        FARM_WORKER_DISCOVERY: 'off',
        FARM_WORKER_TEST: 'yes',
      },
    });
    expect(config).toMatchObject({
      managerUrl: 'http://a:1',
      name: 'n',
      dataDir: path.resolve('/w', 'd'),
      workDir: '/scratch',
      registrationSecret: 's',
      taskTypes: ['ffmpeg'],
      tags: ['t'],
      restartExitCode: 42,
      discovery: false,
      test: true,
    });
    // Every flag has a FARM_ variable.
    for (const option of WORKER_OPTIONS) expect(option.env).toMatch(/^FARM_/);
  });

  it('understands --no-discovery and --discovery=false', () => {
    expect(
      resolveWorkerConfig({ argv: ['--no-discovery', '--manager', 'x:1'], env: {} }).discovery,
    ).toBe(false);
    expect(resolveWorkerConfig({ argv: ['--discovery=false', '--test'], env: {} }).discovery).toBe(
      false,
    );
  });

  it('lists every problem at once', () => {
    const issues = issuesOf(() =>
      resolveWorkerConfig({
        argv: [
          '--manager',
          'ftp://x',
          '--restart-exit-code',
          'soon',
          '--frobnicate',
          '--task-types',
          ' , ',
          '--name',
        ],
        env: { FARM_WORKER_DISCOVERY: 'maybe' },
        file: { colour: 'red', tags: 5 },
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        'manager: must be an http:// or https:// URL',
        'restartExitCode: must be a whole number',
        '--frobnicate: unknown option (see --help)',
        '--name: needs a value',
        'taskTypes: must name at least one task type',
        'FARM_WORKER_DISCOVERY: must be true or false',
        'file.colour: unknown key',
        'file.tags: must be a list',
      ]),
    );
    expect(issues).toHaveLength(8);
  });

  it('refuses to run without a manager when discovery is off', () => {
    expect(issuesOf(() => resolveWorkerConfig({ argv: ['--no-discovery'], env: {} }))).toEqual([
      'manager: no manager: give --manager URL (FARM_MANAGER_URL) or turn discovery on',
    ]);
  });

  it('rejects an exit code a shell cannot report', () => {
    expect(
      issuesOf(() => resolveWorkerConfig({ argv: ['--restart-exit-code', '0'], env: {} })),
    ).toEqual(['restartExitCode: must be between 1 and 255']);
  });

  it('documents every flag with its variable in --help', () => {
    const help = formatWorkerHelp();
    for (const option of WORKER_OPTIONS) {
      expect(help).toContain(option.flag);
      expect(help).toContain(option.env);
    }
  });
});
