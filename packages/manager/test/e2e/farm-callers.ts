import { API_TOKEN_SCOPES, createApiToken } from '../../src/services/auth';
import type { TestManager } from '../support/test-manager';

/** Every kind of caller the permission matrix tries (issue 7). */
export const CALLER_NAMES = [
  'none',
  'viewer',
  'otherArtist',
  'artist',
  'manager',
  'admin',
  'worker',
  'otherWorker',
] as const;
export type CallerName = (typeof CALLER_NAMES)[number];

/** A user's credentials in the test farm. */
export interface TestUser {
  id: string;
  name: string;
  password: string;
  token: string;
}

/** Projects, users with roles, and their tokens, made through the API as an admin would. */
export interface TestPeople {
  projectId: string;
  otherProjectId: string;
  projectName: string;
  users: Record<'viewer' | 'artist' | 'otherArtist' | 'manager', TestUser>;
}

/** A JSON call to the test manager. */
export async function api(
  farm: TestManager,
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${farm.url}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body === undefined || Buffer.isBuffer(body)
        ? {}
        : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (logs, images)
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

function expectStatus(what: string, result: { status: number; body: unknown }, status: number) {
  if (result.status !== status) {
    throw new Error(
      `${what}: expected ${status}, got ${result.status} ${JSON.stringify(result.body)}`,
    );
  }
}

/**
 * Makes projects `alpha` and `beta` and four users: a viewer, an artist and a manager of alpha,
 * and an artist of beta, each with a password and an API token holding every scope but admin
 * (so only their roles tell them apart).
 */
export async function createTestPeople(farm: TestManager): Promise<TestPeople> {
  const alpha = await api(farm, 'POST', '/api/v1/projects', farm.adminToken, { name: 'alpha' });
  expectStatus('create alpha', alpha, 201);
  const beta = await api(farm, 'POST', '/api/v1/projects', farm.adminToken, { name: 'beta' });
  expectStatus('create beta', beta, 201);
  const roles = {
    viewer: [alpha.body.id, 'viewer'],
    artist: [alpha.body.id, 'artist'],
    otherArtist: [beta.body.id, 'artist'],
    manager: [alpha.body.id, 'manager'],
  } as const;
  const users = {} as TestPeople['users'];
  for (const [key, [projectId, role]] of Object.entries(roles) as [
    keyof typeof roles,
    (typeof roles)[keyof typeof roles],
  ][]) {
    const password = `pw-${key}-correct horse`;
    const user = await api(farm, 'POST', '/api/v1/users', farm.adminToken, {
      name: key.toLowerCase(),
      password,
    });
    expectStatus(`create ${key}`, user, 201);
    const member = await api(
      farm,
      'PUT',
      `/api/v1/projects/${projectId}/members/${user.body.id}`,
      farm.adminToken,
      { role },
    );
    expectStatus(`role of ${key}`, member, 204);
    const created = await createApiToken(
      farm.manager.database.db,
      { kind: 'user', userId: user.body.id, name: user.body.name, isAdmin: false, scopes: [] },
      { name: 'matrix', scopes: API_TOKEN_SCOPES.filter((scope) => scope !== 'admin') },
    );
    users[key] = { id: user.body.id, name: user.body.name, password, token: created.secret };
  }
  return {
    projectId: alpha.body.id,
    otherProjectId: beta.body.id,
    projectName: 'alpha',
    users,
  };
}

/** Registers, signs on and wakes a worker; answers its id and token. */
export async function createTestWorker(
  farm: TestManager,
  name: string,
  secret: string,
): Promise<{ id: string; token: string }> {
  const registered = await api(farm, 'POST', '/api/v1/worker/register', null, {
    secret,
    name,
    platform: 'linux',
    taskTypes: ['misc'],
  });
  expectStatus(`register ${name}`, registered, 201);
  const token: string = registered.body.token;
  const signOn = await api(farm, 'POST', '/api/v1/worker/sign-on', token, {
    name,
    platform: 'linux',
    taskTypes: ['misc'],
    version: 'test',
  });
  expectStatus(`sign on ${name}`, signOn, 200);
  await api(farm, 'POST', '/api/v1/worker/state-changed', token, { status: 'awake' });
  return { id: registered.body.workerId, token };
}

/** Submits an echo job to `project` as `token`; answers the job's id. */
export async function submitTestJob(
  farm: TestManager,
  token: string,
  project: string,
  name = 'matrix job',
): Promise<string> {
  const submitted = await api(farm, 'POST', '/api/v1/jobs', token, {
    name,
    type: 'echo-sleep-test',
    project,
    settings: { message: 'hi', sleep_repeats: 1 },
  });
  expectStatus('submit', submitted, 201);
  return String(submitted.body.id);
}
