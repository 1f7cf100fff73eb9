import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isFarmError } from '@farm/core';
import {
  defaultConfigText,
  loadOrCreateRegistrationSecret,
  parseDuration,
  resolveConfig,
  writeDefaultConfig,
  type ResolveConfigOptions,
} from '../../src/config';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-config-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const resolve = (options: ResolveConfigOptions = {}) =>
  resolveConfig({ env: {}, argv: [], cwd: dir, ...options });

function problems(options: ResolveConfigOptions): string[] {
  try {
    resolve(options);
  } catch (error) {
    if (!isFarmError(error)) throw error;
    expect(error.code).toBe('validation_failed');
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  throw new Error('expected the configuration to be refused');
}

describe('resolveConfig', () => {
  it('has the documented defaults, normalised and frozen', () => {
    const config = resolve();
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      dataDir: path.join(dir, 'farm-data'),
      databaseUrl: undefined,
      jobTypesDir: path.join(dir, 'farm-data', 'job-types'),
      storageDir: path.join(dir, 'farm-data', 'storage'),
      logLevel: 'info',
      logFormat: 'auto',
      discovery: true,
      localWorker: false,
      taskTimeoutMs: 600_000,
      workerTimeoutMs: 60_000,
      maxTaskFailures: 3,
      blocklistThreshold: 3,
      failureThresholdPercent: 10,
      blocklistForgiveTimeMs: 3_600_000,
      dutyIntervalMs: 10_000,
      workerCleanupAgeMs: 30 * 86_400_000,
      jobArchiveAgeMs: 0,
      fileGcAgeMs: 7 * 86_400_000,
      checkoutAgeMs: 0,
      registrationSecret: undefined,
      accessTokenKey: undefined,
      bodyLimitBytes: 1024 * 1024,
      smtpUrl: undefined,
      smtpFrom: 'Farm <farm@localhost>',
      notificationRetryBaseMs: 10_000,
      notificationMaxAttempts: 8,
      variables: {},
      configFile: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.variables)).toBe(true);
  });

  it('layers defaults, then the file in the data folder, then env, then flags', () => {
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(
      path.join(dir, 'data', 'farm-manager.yaml'),
      [
        'port: 7000',
        'host: 127.0.0.1',
        'task_timeout: 5m',
        'log_level: debug',
        'storage_dir: ./store',
        'variables:',
        '  blender:',
        '    values:',
        '      - { platform: linux, value: /usr/bin/blender }',
      ].join('\n'),
    );
    const config = resolve({
      env: { FARM_DATA_DIR: 'data', FARM_PORT: '7100', FARM_WORKER_TIMEOUT: '30s' },
      argv: ['--port', '7200', '--no-discovery', '--task-timeout=1h30m'],
    });
    expect(config.configFile).toBe(path.join(dir, 'data', 'farm-manager.yaml'));
    expect(config.port).toBe(7200);
    expect(config.host).toBe('127.0.0.1');
    expect(config.logLevel).toBe('debug');
    expect(config.taskTimeoutMs).toBe(90 * 60_000);
    expect(config.workerTimeoutMs).toBe(30_000);
    expect(config.discovery).toBe(false);
    // Relative paths in the file are relative to the file.
    expect(config.storageDir).toBe(path.join(dir, 'data', 'store'));
    expect(config.jobTypesDir).toBe(path.join(dir, 'data', 'job-types'));
    expect(config.variables).toEqual({
      blender: { values: [{ platform: 'linux', value: '/usr/bin/blender' }] },
    });
  });

  it('reads the file named by --config, FARM_CONFIG or the caller, and insists it exists', () => {
    const file = path.join(dir, 'custom.yaml');
    fs.writeFileSync(file, 'port: 9001\n');
    expect(resolve({ argv: ['--config', file] }).port).toBe(9001);
    expect(resolve({ env: { FARM_CONFIG: file } }).port).toBe(9001);
    expect(resolve({ file }).port).toBe(9001);
    expect(problems({ argv: ['--config', path.join(dir, 'missing.yaml')] })).toEqual([
      expect.stringMatching(/^file .*missing\.yaml: cannot be read/),
    ]);
  });

  it('takes DATABASE_URL, prefers FARM_DATABASE_URL, and treats an empty one as unset', () => {
    expect(resolve({ env: { DATABASE_URL: 'postgres://a@h/db' } }).databaseUrl).toBe(
      'postgres://a@h/db',
    );
    expect(
      resolve({ env: { DATABASE_URL: 'postgres://a@h/db', FARM_DATABASE_URL: 'postgres://b@h/x' } })
        .databaseUrl,
    ).toBe('postgres://b@h/x');
    expect(resolve({ env: { DATABASE_URL: '' } }).databaseUrl).toBeUndefined();
  });

  it('accepts booleans as true/false/yes/no/1/0 and durations and sizes in several forms', () => {
    const config = resolve({
      env: { FARM_DISCOVERY: 'no', FARM_LOCAL_WORKER: 'YES', FARM_TASK_TIMEOUT: '90000' },
      argv: ['--body-limit', '512kb', '--local-worker=false'],
    });
    expect(config.discovery).toBe(false);
    expect(config.localWorker).toBe(false);
    expect(config.taskTimeoutMs).toBe(90_000);
    expect(config.bodyLimitBytes).toBe(512 * 1024);
  });

  it('lists every problem at once, each with its source', () => {
    fs.writeFileSync(
      path.join(dir, 'bad.yaml'),
      [
        'prot: 80',
        'task_timeout: soon',
        'log_format: fancy',
        'variables:',
        '  x: { values: [ { platform: linux } ] }',
      ].join('\n'),
    );
    const listed = problems({
      file: path.join(dir, 'bad.yaml'),
      env: {
        FARM_PORT: 'eighty',
        FARM_DISCOVERY: 'maybe',
        DATABASE_URL: 'mysql://x',
        FARM_VARIABLES: '{',
      },
      argv: ['--max-task-failures', '0', '--colour', 'stray'],
    });
    expect(listed).toHaveLength(11);
    expect(listed).toEqual(
      expect.arrayContaining([
        'env FARM_PORT: must be an integer',
        'env FARM_DISCOVERY: must be a boolean',
        'env DATABASE_URL: must be a postgres:// or postgresql:// URL',
        expect.stringMatching(/^env FARM_VARIABLES: must be JSON/),
        'flag --max-task-failures: must be >= 1',
        'flag --colour: is not a known flag',
        'argument stray: is not a flag (flags start with --)',
        `file ${path.join(dir, 'bad.yaml')}: prot: is not a known setting`,
        `file ${path.join(dir, 'bad.yaml')}: task_timeout: must be a duration such as 30s, 10m or 1h, or a number of milliseconds`,
        `file ${path.join(dir, 'bad.yaml')}: log_format: must be one of: auto, json, pretty`,
        `file ${path.join(dir, 'bad.yaml')}: variables: x.values[0].value: is required`,
      ]),
    );
  });

  it('says so when the YAML itself is broken', () => {
    fs.writeFileSync(path.join(dir, 'broken.yaml'), 'port: [1,\n');
    expect(problems({ file: path.join(dir, 'broken.yaml') })).toEqual([
      expect.stringMatching(/broken\.yaml: is not valid YAML/),
    ]);
  });

  it('asks for a value after a flag that needs one', () => {
    expect(problems({ argv: ['--port', '--no-discovery'] })).toEqual([
      'flag --port: needs a value',
    ]);
  });
});

describe('parseDuration', () => {
  it.each([
    ['10m', 600_000],
    ['30s', 30_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5s', 1_500],
    ['2d', 172_800_000],
    ['1500', 1_500],
    [1500, 1_500],
  ] as const)('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', 'soon', '10 minutes', '-5s', '1y'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('writeDefaultConfig', () => {
  it('writes a commented file, mode 0600, that resolves to the defaults', () => {
    const file = path.join(dir, 'farm-data', 'farm-manager.yaml');
    writeDefaultConfig(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('# TCP port');
    expect(text).toContain('FARM_PORT, --port');
    const config = resolve();
    expect(config.configFile).toBe(file);
    expect({ ...config, configFile: undefined }).toEqual({
      ...resolve({ file: '/dev/null' }),
      configFile: undefined,
    });
    expect(text).toBe(defaultConfigText());
  });

  it('refuses to overwrite unless forced', () => {
    const file = path.join(dir, 'farm-manager.yaml');
    fs.writeFileSync(file, 'port: 1\n');
    expect(() => writeDefaultConfig(file)).toThrow(/already exists/);
    expect(fs.readFileSync(file, 'utf8')).toBe('port: 1\n');
    writeDefaultConfig(file, { force: true });
    expect(fs.readFileSync(file, 'utf8')).toBe(defaultConfigText());
  });
});

describe('loadOrCreateRegistrationSecret', () => {
  it('generates a secret once, keeps it in a 0600 file, and prefers a configured one', () => {
    const first = loadOrCreateRegistrationSecret({ dataDir: dir, configured: undefined });
    expect(first.source).toBe('generated');
    expect(first.secret.length).toBeGreaterThanOrEqual(32);
    expect(fs.statSync(first.file!).mode & 0o777).toBe(0o600);
    const again = loadOrCreateRegistrationSecret({ dataDir: dir, configured: undefined });
    expect(again).toEqual({ secret: first.secret, source: 'file', file: first.file });
    expect(loadOrCreateRegistrationSecret({ dataDir: dir, configured: 'from-config' })).toEqual({
      secret: 'from-config',
      source: 'config',
    });
  });
});
