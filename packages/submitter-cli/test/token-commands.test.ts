import { farm, makeTempDir, removeTempDirs } from './support/test-io';
import { startTestManager, type TestManager } from './support/test-manager';

// `farm login --user` (password, kept as a token) and `farm token create|list|revoke` (issue 7).
jest.setTimeout(60_000);

let manager: TestManager;

beforeAll(async () => {
  manager = await startTestManager();
  const response = await fetch(`${manager.url}/api/v1/users`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${manager.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'ann', password: 'ann password 1' }),
  });
  expect(response.status).toBe(201);
});

afterAll(async () => {
  await manager?.close();
  removeTempDirs();
});

describe('farm login --user and farm token', () => {
  it('signs in with a password, keeps a token (not the password), and manages tokens', async () => {
    const env = { XDG_CONFIG_HOME: makeTempDir(), FARM_PASSWORD: 'ann password 1' };
    const wrong = await farm(['login', manager.url, '--user', 'ann'], {
      env: { ...env, FARM_PASSWORD: 'not it' },
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('wrong user name or password');

    const login = await farm(['login', manager.url, '--user', 'ann'], { env });
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('as ann');
    const who = await farm(['whoami', '--json'], { env: { XDG_CONFIG_HOME: env.XDG_CONFIG_HOME } });
    expect(JSON.parse(who.stdout).name).toBe('ann');

    const created = await farm(['token', 'create', 'script', '--scope', 'jobs:read', '--json'], {
      env: { XDG_CONFIG_HOME: env.XDG_CONFIG_HOME },
    });
    expect(created.code).toBe(0);
    const { secret, token } = JSON.parse(created.stdout) as {
      secret: string;
      token: { id: string };
    };
    expect(secret).toMatch(/^farm_u_/);

    const list = await farm(['token', 'list', '--json'], {
      env: { XDG_CONFIG_HOME: env.XDG_CONFIG_HOME },
    });
    const items = JSON.parse(list.stdout) as { id: string; name: string }[];
    expect(items.map((t) => t.name)).toEqual(expect.arrayContaining(['script']));
    expect(items.some((t) => t.name.startsWith('farm CLI on '))).toBe(true);
    expect(list.stdout).not.toContain(secret);

    const revoked = await farm(['token', 'revoke', token.id], {
      env: { XDG_CONFIG_HOME: env.XDG_CONFIG_HOME },
    });
    expect(revoked.code).toBe(0);
    const after = await fetch(`${manager.url}/api/v1/me`, {
      headers: { Authorization: `Bearer ${secret}` },
    });
    expect(after.status).toBe(401);

    const badScope = await farm(['token', 'create', 'x', '--scope', 'everything'], {
      env: { XDG_CONFIG_HOME: env.XDG_CONFIG_HOME },
    });
    expect(badScope.code).toBe(2);
  });
});
