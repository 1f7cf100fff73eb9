import { createFarmClient } from '@farm/core';
import { parseEvery } from '../src/commands/schedules';
import { farm, makeTempDir, removeTempDirs } from './support/test-io';
import { startTestManager, type TestManager } from './support/test-manager';

// `farm schedule ...` and `farm submit --after` against a real manager.
jest.setTimeout(60_000);

let farmManager: TestManager;
let env: Record<string, string>;

beforeAll(async () => {
  farmManager = await startTestManager();
  env = {
    FARM_URL: farmManager.url,
    FARM_TOKEN: farmManager.token,
    XDG_CONFIG_HOME: makeTempDir(),
  };
});

afterAll(async () => {
  await farmManager?.close();
  removeTempDirs();
});

describe('farm schedule', () => {
  it('reads --every as whole minutes, hours or days', () => {
    expect(parseEvery('30m')).toBe(30 * 60_000);
    expect(parseEvery('2h')).toBe(2 * 3_600_000);
    expect(parseEvery('1d')).toBe(86_400_000);
    expect(() => parseEvery('10s')).toThrow(/--every/);
  });

  it('adds, lists, disables, enables, shows runs and removes a schedule', async () => {
    const added = await farm(
      [
        'schedule',
        'add',
        'nightly',
        'echo-sleep-test',
        '--cron',
        '0 2 * * *',
        '--tz',
        'Europe/Amsterdam',
        '--set',
        'message=night',
        '--json',
      ],
      { env },
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const schedule = JSON.parse(added.stdout);
    expect(schedule).toMatchObject({
      name: 'nightly',
      cron: '0 2 * * *',
      timeZone: 'Europe/Amsterdam',
      enabled: true,
      template: { name: 'nightly', type: 'echo-sleep-test', settings: { message: 'night' } },
    });

    const list = await farm(['schedule', 'list'], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/nightly\s+cron 0 2 \* \* \*\s+Europe\/Amsterdam\s+enabled/);

    const disabled = await farm(['schedule', 'disable', 'nightly'], { env });
    expect(disabled.stdout.trim()).toBe('nightly: disabled');
    const listed = await createFarmClient({
      url: farmManager.url,
      token: farmManager.token,
    }).listSchedules();
    expect(listed[0]).toMatchObject({ enabled: false, nextRunAt: null });

    const enabled = await farm(['schedule', 'enable', 'nightly'], { env });
    expect(enabled.stdout).toMatch(/^nightly: enabled, next run /);

    const runs = await farm(['schedule', 'runs', 'nightly'], { env });
    expect(runs.code).toBe(0);
    expect(runs.stdout.trim()).toBe('No runs yet.');

    const removed = await farm(['schedule', 'remove', 'nightly'], { env });
    expect(removed.stdout.trim()).toBe('nightly: removed');
    const unknown = await farm(['schedule', 'runs', 'nightly'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no schedule is named "nightly"');
  });

  it('refuses a schedule with both or neither of --cron and --every', async () => {
    const neither = await farm(['schedule', 'add', 'x', 'echo-sleep-test'], { env });
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('exactly one of --cron and --every');
  });

  it('submits a job that waits for another with --after', async () => {
    const first = await farm(['submit', 'echo-sleep-test', '--set', 'message=a'], { env });
    const firstId = first.stdout.trim();
    const second = await farm(
      ['submit', 'echo-sleep-test', '--set', 'message=b', '--after', firstId, '--json'],
      { env },
    );
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      status: 'waiting',
      dependsOnJobs: [firstId],
    });
  });
});
