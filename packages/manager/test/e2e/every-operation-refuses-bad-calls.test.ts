import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { OPERATIONS, TABLE_NAMES_FOR_TESTS } from './every-operation-support';
import { testBackends } from '../support/test-database';
import { startTestManager, type TestManager } from '../support/test-manager';

// Generated from the API document, so a new endpoint cannot escape it: for every operation, a
// call without a credential, with the wrong kind of credential, with an unknown body field, or
// with an id that does not exist gets a clear error, and the database does not change.
for (const backend of testBackends()) {
  describe(`every operation refuses bad calls [${backend}]`, () => {
    let farm: TestManager;
    let workerToken: string;

    beforeAll(async () => {
      farm = await startTestManager(backend);
      const response = await fetch(`${farm.url}/api/v1/worker/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          secret: farm.manager.registrationSecret,
          name: 'probe',
          platform: 'linux',
          taskTypes: ['misc'],
        }),
      });
      workerToken = ((await response.json()) as { token: string }).token;
    }, 120_000);
    afterAll(() => farm?.stop());

    const snapshot = async (): Promise<Record<string, number>> => {
      const counts: Record<string, number> = {};
      for (const table of TABLE_NAMES_FOR_TESTS) {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(
          table,
        )}`.execute(farm.manager.database.db);
        counts[table] = rows[0]!.n;
      }
      return counts;
    };

    // Ids are random uuids; `{size}` (a last-rendered image size) is an enum, so a valid one.
    const pathOf = (template: string): string =>
      template.replace(/\{([^}]+)\}/g, (_m, name: string) =>
        name === 'size' ? 'small' : randomUUID(),
      );

    const call = async (
      operation: (typeof OPERATIONS)[number],
      token: string | null,
      body?: unknown,
      path = pathOf(operation.path),
    ) => {
      const response = await fetch(`${farm.url}${path}`, {
        method: operation.method.toUpperCase(),
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };

    const guarded = OPERATIONS.filter((op) => op.auth !== 'none');

    it.each(guarded.map((op) => [op.operationId, op] as const))(
      '%s: 401 without a credential, 403 with the wrong kind, nothing changed',
      async (_id, operation) => {
        const before = await snapshot();
        const anonymous = await call(operation, null, operation.body ? {} : undefined);
        expect(anonymous.status).toBe(401);
        expect(anonymous.body.code).toBe('unauthenticated');

        const wrongKind = operation.auth === 'user' ? workerToken : farm.adminToken;
        const refused = await call(operation, wrongKind, operation.body ? {} : undefined);
        expect(refused.status).toBe(403);
        expect(refused.body.code).toBe('forbidden');
        expect(await snapshot()).toEqual(before);
      },
    );

    const withJsonBody = guarded.filter(
      (op) => op.body !== null && op.contentTypes.includes('application/json'),
    );
    it.each(withJsonBody.map((op) => [op.operationId, op] as const))(
      '%s: an unknown body field is refused with every problem listed, nothing changed',
      async (_id, operation) => {
        const before = await snapshot();
        const token = operation.auth === 'user' ? farm.adminToken : workerToken;
        const response = await call(operation, token, { surelyNotAField: 1 });
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('validation_failed');
        expect(JSON.stringify(response.body.details.issues)).toContain('surelyNotAField');
        expect(await snapshot()).toEqual(before);
      },
    );

    const readsById = guarded.filter(
      (op) =>
        op.auth === 'user' &&
        op.method === 'get' &&
        op.path.includes('{') &&
        !['getJobType', 'getVariables'].includes(op.operationId),
    );
    it.each(readsById.map((op) => [op.operationId, op] as const))(
      '%s: an id that does not exist is a 404 with code not_found',
      async (id, operation) => {
        const response = await call(operation, farm.adminToken);
        // Operations not served yet say so (501), listed by the manager itself.
        if (farm.manager.unimplementedOperations.includes(id)) {
          expect(response.status).toBe(501);
          return;
        }
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('not_found');
      },
    );

    it('getJobType: an unknown job type is a 404', async () => {
      const operation = OPERATIONS.find((op) => op.operationId === 'getJobType')!;
      const response = await call(
        operation,
        farm.adminToken,
        undefined,
        '/api/v1/job-types/no-such-type',
      );
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('not_found');
    });
  });
}
