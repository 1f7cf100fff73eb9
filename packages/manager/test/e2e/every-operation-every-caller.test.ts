import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { OperationSpec } from '@farm/core';
import { OPERATIONS } from './every-operation-support';
import {
  api,
  CALLER_NAMES,
  createTestPeople,
  createTestWorker,
  submitTestJob,
  type CallerName,
  type TestPeople,
} from './farm-callers';
import { testBackends } from '../support/test-database';
import { startTestManager, type TestManager } from '../support/test-manager';

// The permission matrix of issue 7, generated from the API document so that a new operation
// cannot escape it: every operation is called by every kind of caller (none, a viewer, an artist
// of another project, the job's artist, a manager, an admin, the task's worker and another
// worker). Who may call what is computed from the operation's `x-farm-auth`, `x-farm-scope` and
// `x-farm-role` and from whether it names a job or task of project alpha; a refused call must
// answer 401/403 and change nothing, an allowed one must get past authorisation (its answer may
// still be 400/404/409 for the deliberately empty body or an unknown id).

const RANK: Record<string, number> = { viewer: 1, otherArtist: 2, artist: 2, manager: 3 };
const ROLE_RANK: Record<string, number> = { any: 0, viewer: 1, artist: 2, manager: 3 };

/** Whether `caller` may call `op` on alpha's job/task and worker A's resources. */
function allowed(op: OperationSpec, caller: CallerName): boolean {
  if (op.auth === 'none') return true;
  if (caller === 'none') return false;
  const isWorker = caller === 'worker' || caller === 'otherWorker';
  if (op.auth === 'worker') {
    if (!isWorker) return false;
    // Worker A holds the task; the other worker may not touch it (it may ask whether it may run
    // it: the answer is no, checked below).
    return caller === 'worker' || !op.path.includes('{taskId}') || op.operationId === 'mayIRun';
  }
  if (isWorker) return false;
  if (caller === 'admin') return true;
  if (op.scope === 'admin' || op.role === 'admin') return false;
  if (RANK[caller]! < ROLE_RANK[op.role ?? 'admin']!) return false;
  // The job and task belong to alpha, where the other artist has no role.
  if (caller === 'otherArtist' && /\{(jobId|taskId)\}/.test(op.path)) return false;
  return true;
}

// Worker A's claim of the task of another: a 409 `not-your-task` refusal is how the worker
// protocol has always said so (workers act on it), and it changes nothing either.
function isRefusal(op: OperationSpec, caller: CallerName, status: number, body: any): boolean {
  if (status === 401 || status === 403) return true;
  return (
    op.auth === 'worker' &&
    caller === 'otherWorker' &&
    status === 409 &&
    JSON.stringify(body ?? {}).includes('not-your-task')
  );
}

for (const backend of testBackends()) {
  describe(`every operation, every caller [${backend}]`, () => {
    let farm: TestManager;
    let people: TestPeople;
    let secret: string;
    // Per operation: a job of alpha submitted by the artist, a task of it held by worker A.
    let fixture: {
      jobId: string;
      taskId: string;
      workerId: string;
      tokens: Record<CallerName, string | null>;
    };

    beforeAll(async () => {
      farm = await startTestManager(backend);
      people = await createTestPeople(farm);
      secret = farm.manager.registrationSecret;
    }, 120_000);
    afterAll(() => farm?.stop());

    async function makeFixture(): Promise<typeof fixture> {
      const workerA = await createTestWorker(farm, `a-${randomUUID().slice(0, 8)}`, secret);
      const workerB = await createTestWorker(farm, `b-${randomUUID().slice(0, 8)}`, secret);
      const jobId = await submitTestJob(farm, people.users.artist.token, people.projectName);
      const claim = await api(farm, 'POST', '/api/v1/worker/claim', workerA.token, { waitMs: 0 });
      if (claim.status !== 200) throw new Error(`claim: ${claim.status}`);
      return {
        jobId,
        taskId: claim.body.id,
        workerId: workerA.id,
        tokens: {
          none: null,
          viewer: people.users.viewer.token,
          otherArtist: people.users.otherArtist.token,
          artist: people.users.artist.token,
          manager: people.users.manager.token,
          admin: farm.adminToken,
          worker: workerA.token,
          otherWorker: workerB.token,
        },
      };
    }

    // Row counts of every table plus the rows whose change a refused call could cause.
    const snapshot = async (): Promise<unknown> => {
      const { rows } = await sql<Record<string, unknown>>`
        select
          (select json_agg(json_build_array(id, status, priority) order by id) from jobs) as jobs,
          (select json_agg(json_build_array(id, status, worker_id) order by id) from tasks) as tasks,
          (select json_agg(json_build_array(id, status_requested, tags, token_hash) order by id)
             from workers) as workers,
          (select json_agg(json_build_array(id, is_admin, disabled_at, password_hash) order by id)
             from users) as users,
          (select json_agg(json_build_array(project_id, user_id, role) order by project_id, user_id)
             from project_members) as members,
          (select json_agg(json_build_array(id, revoked_at) order by id) from api_tokens) as tokens,
          (select json_agg(json_build_array(id, name) order by id) from projects) as projects,
          (select count(*)::int from sleep_schedules) as schedules,
          (select count(*)::int from audit_log) as audit,
          (select count(*)::int from sessions) as sessions,
          (select value from farm_state where key = 'registration_secret_sha256') as secret
      `.execute(farm.manager.database.db);
      return rows[0];
    };

    function pathOf(op: OperationSpec): string {
      return op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
        if (name === 'jobId') return fixture.jobId;
        if (name === 'taskId') return fixture.taskId;
        if (name === 'workerId') return fixture.workerId;
        // Tokens, users, projects and others' resources: an id that does not exist, so an
        // allowed call cannot undo the fixtures (it answers 404 or 204 after passing the checks).
        return randomUUID();
      });
    }

    // An empty JSON object, or a few bytes of the operation's own media type (uploads).
    function bodyOf(op: OperationSpec): [unknown, Record<string, string>] | [] {
      if (op.contentTypes.length === 0) return [];
      if (op.contentTypes.includes('application/json')) return [{}, {}];
      return [Buffer.from('not really a file'), { 'Content-Type': op.contentTypes[0]! }];
    }

    // Fixtures settle (job roll-ups, group-committed updates) before the calls are compared.
    async function settled(): Promise<void> {
      let last = JSON.stringify(await snapshot());
      for (let i = 0; i < 50; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const now = JSON.stringify(await snapshot());
        if (now === last) return;
        last = now;
      }
    }

    const guarded = OPERATIONS.filter((op) => op.auth !== 'none');

    it.each(guarded.map((op) => [op.operationId, op] as const))(
      '%s: each caller is allowed or refused (401/403, nothing changed) as its role says',
      async (_id, op) => {
        fixture = await makeFixture();
        await settled();
        const outcomes: Record<string, string> = {};
        const expected: Record<string, string> = {};
        for (const caller of CALLER_NAMES) {
          const before = await snapshot();
          const result = await api(
            farm,
            op.method.toUpperCase(),
            pathOf(op),
            fixture.tokens[caller],
            ...bodyOf(op),
          );
          if (op.operationId === 'rotateRegistrationSecret' && result.status === 200) {
            secret = result.body.secret;
          }
          const refused = isRefusal(op, caller, result.status, result.body);
          const unchanged = refused
            ? JSON.stringify(await snapshot()) === JSON.stringify(before)
            : true;
          outcomes[caller] = refused
            ? `refused${caller === 'none' && result.status !== 401 ? ` (${result.status})` : ''}${unchanged ? '' : ' BUT CHANGED'}`
            : 'allowed';
          expected[caller] = allowed(op, caller) ? 'allowed' : 'refused';
        }
        expect(outcomes).toEqual(expected);
      },
      60_000,
    );

    it('tells another worker it may not run a task it does not hold', async () => {
      fixture = await makeFixture();
      const mine = await api(
        farm,
        'GET',
        `/api/v1/worker/tasks/${fixture.taskId}/may-i-run`,
        fixture.tokens.worker,
      );
      expect(mine.body.mayKeepRunning).toBe(true);
      const other = await api(
        farm,
        'GET',
        `/api/v1/worker/tasks/${fixture.taskId}/may-i-run`,
        fixture.tokens.otherWorker,
      );
      expect(other.body.mayKeepRunning).toBe(false);
    });

    it('covers operations added later: every user operation has a role in the table', () => {
      for (const op of guarded) {
        if (op.auth === 'user')
          expect({ op: op.operationId, role: op.role }).not.toEqual({
            op: op.operationId,
            role: null,
          });
      }
    });
  });
}
