import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { createProgram } from '../src';
import { configFilePath, readStoredLogin, writeStoredLogin } from '../src/config-store';
import { readSettingsFile } from '../src/settings/read-settings-file';
import { farm, makeTempDir, removeTempDirs } from './support/test-io';

afterAll(removeTempDirs);

/** Every command of the tree, with its full name (`worker sleep`). */
function allCommands(command: Command, prefix = ''): Array<{ name: string; command: Command }> {
  return command.commands.flatMap((sub) => {
    const name = `${prefix}${sub.name()}`;
    return [{ name, command: sub }, ...allCommands(sub, `${name} `)];
  });
}

const program = createProgram({ stdout: () => undefined, stderr: () => undefined });
const commands = allCommands(program);

describe('farm usage', () => {
  it('has the commands users were promised', () => {
    expect(commands.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'login',
        'whoami',
        'logout',
        'job-types',
        'job-types show',
        'submit',
        'jobs',
        'job',
        'watch',
        'cancel',
        'pause',
        'resume',
        'requeue',
        'delete',
        'tasks',
        'logs',
        'workers',
        'worker sleep',
        'worker wake',
        'worker shutdown',
        'worker restart',
        'token create',
        'token list',
        'token revoke',
      ]),
    );
  });

  it.each(commands.map((c) => [c.name]))('"farm %s --help" shows examples', async (name) => {
    const result = await farm([...name.split(' '), '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain(`$ farm ${name}`);
  });

  it('documents every command and every exit code in docs/cli.md', () => {
    const docs = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'cli.md'), 'utf8');
    const missing = commands.filter((c) => !docs.includes(`farm ${c.name}`)).map((c) => c.name);
    expect(missing).toEqual([]);
    for (const code of [0, 1, 2, 3, 4, 5, 6])
      expect(docs).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });

  it('offers --json on every list and detail command', () => {
    const withJson = commands.filter((c) => c.command.options.some((o) => o.long === '--json'));
    expect(withJson.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'job-types',
        'job-types show',
        'jobs',
        'job',
        'tasks',
        'workers',
        'worker show',
        'whoami',
        'submit',
      ]),
    );
  });

  it('refuses an unknown option with exit code 2 and one line naming it', async () => {
    const result = await farm(['jobs', '--colour']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe("farm: unknown option '--colour'");
  });

  it('refuses excess arguments and a missing one with exit code 2', async () => {
    expect((await farm(['jobs', 'extra'])).code).toBe(2);
    const missing = await farm(['submit']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'type'");
  });

  it('without a command shows the help and exit codes, exit code 2', async () => {
    const result = await farm([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Exit codes:');
  });

  it('checks option values before asking the manager', async () => {
    const priority = await farm(['submit', 'echo-sleep-test', '--priority', '200']);
    expect(priority.code).toBe(2);
    expect(priority.stderr).toBe('farm: --priority must be between 0 and 100, got 200\n');
    const id = await farm(['job', '42', '--url', 'http://127.0.0.1:9', '--token', 't']);
    expect(id.code).toBe(2);
    expect(id.stderr).toMatch(/^farm: "42" is not a job id/);
    const status = await farm([
      'jobs',
      '--status',
      'running',
      '--url',
      'http://127.0.0.1:9',
      '--token',
      't',
    ]);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('--status must be one of waiting, queued, active');
  });

  it('says how to log in when it knows no manager (exit code 6)', async () => {
    const result = await farm(['jobs']);
    expect(result.code).toBe(6);
    expect(result.stderr).toBe(
      'farm: no manager to talk to: run "farm login URL", or set FARM_URL or --url\n',
    );
  });

  it('says how to log in when it has a manager but no token (exit code 6)', async () => {
    const result = await farm(['jobs'], {
      env: { FARM_URL: 'http://farm:8080', XDG_CONFIG_HOME: makeTempDir() },
    });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('not logged in to http://farm:8080');
  });

  it('does not ask for a token when stdin is not a terminal', async () => {
    const result = await farm(['login', 'http://127.0.0.1:9']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pass --token TOKEN or set FARM_TOKEN');
  });

  it('says so when discovery finds no manager (exit code 5)', async () => {
    const result = await farm(['login', '--token', 't']);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('found no Farm manager on the network');
  });
});

describe('the stored login', () => {
  it('lives in XDG_CONFIG_HOME, ~/.config, or %APPDATA% on Windows', () => {
    expect(
      configFilePath({ env: { XDG_CONFIG_HOME: '/x' }, platform: 'linux', homedir: '/h' }),
    ).toBe('/x/farm/config.json');
    expect(configFilePath({ env: {}, platform: 'darwin', homedir: '/h' })).toBe(
      '/h/.config/farm/config.json',
    );
    expect(
      configFilePath({
        env: { APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' },
        platform: 'win32',
        homedir: 'C:\\Users\\ann',
      }),
    ).toBe('C:\\Users\\ann\\AppData\\Roaming\\farm\\config.json');
  });

  it('is readable by its owner only', () => {
    const file = path.join(makeTempDir(), 'farm', 'config.json');
    writeStoredLogin(file, { url: 'http://farm:8080', token: 'secret' });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(readStoredLogin(file)).toEqual({ url: 'http://farm:8080', token: 'secret' });
    writeStoredLogin(file, { url: 'http://farm:8080', token: 'other' });
    expect(readStoredLogin(file)?.token).toBe('other');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('settings files', () => {
  it('are read from JSON and YAML', () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, 's.json'), '{"frames": "1-10", "chunk": 5}');
    fs.writeFileSync(path.join(dir, 's.yaml'), 'frames: 1-10\nchunk: 5\ndenoise: true\n');
    expect(readSettingsFile(path.join(dir, 's.json'))).toEqual({ frames: '1-10', chunk: 5 });
    expect(readSettingsFile(path.join(dir, 's.yaml'))).toEqual({
      frames: '1-10',
      chunk: 5,
      denoise: true,
    });
  });

  it('must hold a mapping', () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, 'list.yaml'), '- a\n- b\n');
    expect(() => readSettingsFile(path.join(dir, 'list.yaml'))).toThrow('must hold a mapping');
    expect(() => readSettingsFile(path.join(dir, 'missing.json'))).toThrow(
      'cannot read the settings file',
    );
  });
});
