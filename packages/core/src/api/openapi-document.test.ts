import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { ERROR_CODES } from '../errors';
import {
  JOB_ACTIONS,
  JOB_STATUSES,
  TASK_ACTIONS,
  TASK_STATUSES,
  WORKER_REQUESTED_STATUSES,
  WORKER_STATUSES,
  type JobAction,
  type JobStatus,
  type TaskAction,
  type TaskStatus,
  type WorkerRequestedStatus,
  type WorkerStatus,
  type WorkerStatusRequest,
} from '../status';
import {
  OPERATIONS,
  openApiDocument,
  type ApiJobAction,
  type ApiJobStatus,
  type ApiTaskAction,
  type ApiTaskStatus,
  type ApiWorkerStatus,
  type ApiWorkerStatusRequest,
  type WorkerStatusChange,
} from '.';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Compile-time: the wire enums and the status machines' unions are the same sets.
const STATUS_TYPES_AGREE: [
  Same<ApiJobStatus, JobStatus>,
  Same<ApiTaskStatus, TaskStatus>,
  Same<ApiWorkerStatus, WorkerStatus>,
  Same<ApiWorkerStatusRequest, WorkerRequestedStatus>,
  Same<WorkerStatusChange, WorkerStatusRequest>,
  Same<ApiJobAction, JobAction>,
  Same<ApiTaskAction, TaskAction>,
] = [true, true, true, true, true, true, true];

const CORE_DIR = path.join(__dirname, '..', '..');
const SPEC = YAML.parse(
  fs.readFileSync(path.join(CORE_DIR, 'openapi', 'openapi.yaml'), 'utf8'),
) as Spec;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface Spec {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; responses: Record<string, unknown> };
  'x-farm-scopes': Record<string, string>;
  'x-farm-roles': Record<string, string>;
  'x-farm-websockets': { path: string; operations?: Record<string, string> }[];
}
interface Operation {
  operationId?: string;
  summary?: string;
  security?: Record<string, string[]>[];
  'x-farm-auth'?: string;
  'x-farm-scope'?: string;
  'x-farm-role'?: string;
  parameters?: { $ref?: string; name?: string; in?: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: Schema }> }>;
}
type Schema = Record<string, unknown>;

function operations(): [string, string, Operation][] {
  const out: [string, string, Operation][] = [];
  for (const [route, item] of Object.entries(SPEC.paths)) {
    for (const method of METHODS) if (item[method]) out.push([method, route, item[method]]);
  }
  return out;
}

function resolve(ref: string): unknown {
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], SPEC);
}

function collectRefs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => collectRefs(n, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else collectRefs(value, found);
    }
  }
  return found;
}

const enumOf = (name: string) => SPEC.components.schemas[name]!.enum;

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and every $ref in it resolves', () => {
    expect(SPEC.openapi).toMatch(/^3\.1\./);
    const refs = collectRefs(SPEC);
    expect(refs.length).toBeGreaterThan(100);
    const broken = refs.filter((ref) => !ref.startsWith('#/') || resolve(ref) === undefined);
    expect(broken).toEqual([]);
  });

  it('describes exactly the operations the manager must serve', () => {
    const ids = operations().map(([, , op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(
      [
        'getVersion',
        'getHealth',
        'getReadiness',
        'getMetrics',
        'getOpenApiDocument',
        'getVariables',
        'getCurrentUser',
        'listJobTypes',
        'getJobType',
        'submitJob',
        'listJobs',
        'getJobsSummary',
        'getJob',
        'applyJobAction',
        'applyBulkJobAction',
        'listJobTasks',
        'getJobTasksCompact',
        'getJobBlocklist',
        'removeJobBlocklistEntries',
        'getJobLastRendered',
        'getJobLastRenderedImage',
        'getLastRendered',
        'getTask',
        'applyTaskAction',
        'applyBulkTaskAction',
        'getTaskLog',
        'listWorkers',
        'getWorker',
        'requestWorkerStatus',
        'setWorkerTags',
        'getWorkerSleepSchedule',
        'setWorkerSleepSchedule',
        'deleteWorkerSleepSchedule',
        'deleteWorker',
        'registerWorker',
        // issue 10: the file store
        'findMissingFiles',
        'uploadFile',
        'createCheckout',
        'getCheckout',
        'deleteCheckout',
        // issue 10: schedules
        'listSchedules',
        'createSchedule',
        'getSchedule',
        'updateSchedule',
        'deleteSchedule',
        'listScheduleRuns',
        // issue 10: notifications
        'listNotificationSubscriptions',
        'createNotificationSubscription',
        'getNotificationSubscription',
        'updateNotificationSubscription',
        'deleteNotificationSubscription',
        'sendTestNotification',
        'listNotificationDeliveries',
        // issue 7: people, tokens, projects, audit
        'login',
        'logout',
        'createAccessToken',
        'listApiTokens',
        'createApiToken',
        'revokeApiToken',
        'listUsers',
        'createUser',
        'updateUser',
        'listProjects',
        'createProject',
        'setProjectMember',
        'removeProjectMember',
        'listAuditLog',
        'rotateRegistrationSecret',
        'revokeWorkerToken',
        'signOn',
        'signOff',
        'claimTask',
        'updateTask',
        'mayIRun',
        'uploadTaskOutput',
        'workerStateChanged',
        'workerHeartbeat',
      ].sort(),
    );
    for (const [, route] of operations()) {
      if (!['/healthz', '/readyz', '/metrics'].includes(route))
        expect(route).toMatch(/^\/api\/v1\//);
    }
  });

  it('gives every operation a summary, an auth kind that matches its security, and a known scope', () => {
    const scopes = Object.keys(SPEC['x-farm-scopes']);
    const roles = Object.keys(SPEC['x-farm-roles']);
    for (const [method, route, op] of operations()) {
      const where = `${method.toUpperCase()} ${route}`;
      expect({ where, summary: typeof op.summary }).toEqual({ where, summary: 'string' });
      const auth = op['x-farm-auth'];
      const schemes = (op.security ?? []).flatMap((s) => Object.keys(s)).sort();
      if (auth === 'none') expect({ where, schemes }).toEqual({ where, schemes: [] });
      else if (auth === 'worker')
        expect({ where, schemes }).toEqual({ where, schemes: ['bearer'] });
      else {
        expect({ where, auth }).toEqual({ where, auth: 'user' });
        expect(schemes).toContain('bearer');
        if (op['x-farm-scope'] !== undefined) expect(scopes).toContain(op['x-farm-scope']);
        // Who may call it is written down for every user operation (the generator would treat a
        // missing role as admin-only; this makes the author choose).
        expect({ where, role: roles.includes(op['x-farm-role'] ?? '') }).toEqual({
          where,
          role: true,
        });
      }
    }
    expect(
      operations()
        .filter(([, , op]) => op['x-farm-auth'] === 'none')
        .map(([, , op]) => op.operationId)
        .sort(),
    ).toEqual([
      'getHealth',
      'getOpenApiDocument',
      'getReadiness',
      'getVersion',
      'login',
      'registerWorker',
    ]);
  });

  it('answers errors with the shared responses, whose body is the Error schema', () => {
    for (const [method, route, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        // A readiness probe answers 503 with its own report, which load balancers read.
        const ownBody = op.operationId === 'getReadiness' && status === '503';
        if ((status === 'default' || Number(status) >= 400) && !ownBody) {
          expect({
            where: `${method} ${route} ${status}`,
            ref: response.$ref?.startsWith('#/components/responses/'),
          }).toEqual({
            where: `${method} ${route} ${status}`,
            ref: true,
          });
        }
      }
    }
    const schemaOf = (name: string) =>
      (SPEC.components.responses[name] as { content: Record<string, { schema: { $ref: string } }> })
        .content['application/json']!.schema.$ref;
    expect(schemaOf('BadRequest')).toBe('#/components/schemas/Error');
    expect(schemaOf('Conflict')).toBe('#/components/schemas/Error');
  });

  it('rejects unknown fields in every JSON request body', () => {
    for (const [method, route, op] of operations()) {
      const schema = op.requestBody?.content['application/json']?.schema;
      if (!schema) continue;
      const target = (schema.$ref ? resolve(schema.$ref as string) : schema) as Schema;
      expect({
        where: `${method} ${route}`,
        additionalProperties: target.additionalProperties,
      }).toEqual({
        where: `${method} ${route}`,
        additionalProperties: false,
      });
    }
  });

  it('pages every list that takes a limit with { items, nextCursor }', () => {
    const paged = operations().filter(([, , op]) =>
      (op.parameters ?? []).some((p) => p.$ref === '#/components/parameters/Limit'),
    );
    expect(paged.map(([, , op]) => op.operationId).sort()).toEqual([
      'listAuditLog',
      'listJobTasks',
      'listJobs',
      'listNotificationDeliveries',
    ]);
    for (const [, , op] of paged) {
      const ref = op.responses['200']!.content!['application/json']!.schema.$ref as string;
      const page = resolve(ref) as { required: string[] };
      expect(page.required).toEqual(['items', 'nextCursor']);
    }
  });

  it('has the status, action and platform enums the rest of Farm relies on', () => {
    expect(enumOf('JobStatus')).toEqual([
      'waiting',
      'queued',
      'active',
      'pause-requested',
      'paused',
      'cancel-requested',
      'canceled',
      'completed',
      'failed',
      'requeueing',
      'archived',
    ]);
    expect(enumOf('TaskStatus')).toEqual([
      'queued',
      'active',
      'completed',
      'soft-failed',
      'failed',
      'canceled',
      'paused',
    ]);
    expect(enumOf('WorkerStatus')).toEqual([
      'starting',
      'awake',
      'asleep',
      'testing',
      'offline',
      'error',
    ]);
    expect(enumOf('JobAction')).toEqual([
      'cancel',
      'pause',
      'resume',
      'requeue',
      'requeue-failed',
      'archive',
      'delete',
      'set-priority',
    ]);
    expect(enumOf('TaskAction')).toEqual(['requeue', 'cancel']);
    expect(enumOf('WorkerStatusRequest')).toEqual([
      'awake',
      'asleep',
      'offline',
      'restart',
      'testing',
    ]);
    expect(enumOf('Platform')).toEqual(['linux', 'windows', 'darwin']);
    expect(enumOf('ErrorCode')).toEqual([...ERROR_CODES]);
    // Task counts are keyed by task status, so `taskCounts[task.status]` always exists.
    expect(Object.keys(SPEC.components.schemas.TaskCounts!.properties as object)).toEqual([
      ...(enumOf('TaskStatus') as string[]),
      'total',
    ]);
  });

  it("has the same statuses and actions as core's status machines", () => {
    expect(STATUS_TYPES_AGREE.every(Boolean)).toBe(true);
    const sorted = (values: readonly string[]) => [...values].sort();
    expect(sorted(enumOf('JobStatus') as string[])).toEqual(sorted(JOB_STATUSES));
    expect(sorted(enumOf('TaskStatus') as string[])).toEqual(sorted(TASK_STATUSES));
    expect(sorted(enumOf('WorkerStatus') as string[])).toEqual(sorted(WORKER_STATUSES));
    expect(sorted(enumOf('WorkerStatusRequest') as string[])).toEqual(
      sorted(WORKER_REQUESTED_STATUSES),
    );
    expect(sorted(enumOf('JobAction') as string[])).toEqual(sorted(JOB_ACTIONS));
    expect(sorted(enumOf('TaskAction') as string[])).toEqual(sorted(TASK_ACTIONS));
  });

  it('maps every worker socket op to an HTTP worker operation', () => {
    const socket = SPEC['x-farm-websockets'].find((s) => s.path === '/api/v1/ws/worker')!;
    expect(Object.keys(socket.operations!).sort()).toEqual(
      [...(enumOf('WorkerSocketOp') as string[])].sort(),
    );
    for (const [op, operationId] of Object.entries(socket.operations!)) {
      expect(OPERATIONS[operationId as keyof typeof OPERATIONS]).toMatchObject({
        auth: 'worker',
        socketOp: op,
      });
    }
  });
});

describe('the generated files', () => {
  it('embed the current document and list every operation with its auth and scope', () => {
    expect(JSON.parse(JSON.stringify(openApiDocument))).toEqual(SPEC);
    expect(Object.keys(OPERATIONS).sort()).toEqual(
      operations()
        .map(([, , op]) => op.operationId!)
        .sort(),
    );
    expect(OPERATIONS.applyJobAction).toMatchObject({
      method: 'post',
      path: '/api/v1/jobs/{jobId}/actions',
      auth: 'user',
      scope: 'jobs:write',
      bodyRequired: true,
    });
    expect(OPERATIONS.uploadTaskOutput).toMatchObject({
      body: null,
      contentTypes: ['image/jpeg', 'image/png'],
    });
  });

  it('are reported stale by check-generated.js when they differ from a fresh generation', () => {
    const script = path.join(CORE_DIR, 'scripts', 'check-generated.js');
    expect(execFileSync(process.execPath, [script], { encoding: 'utf8' })).toMatch(/up to date/);

    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-stale-'));
    try {
      fs.cpSync(path.join(CORE_DIR, 'src', 'generated'), copy, { recursive: true });
      fs.appendFileSync(path.join(copy, 'operations.ts'), '// edited by hand\n');
      const result = spawnSync(process.execPath, [script, '--against', copy], { encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/stale .*operations\.ts/);
      expect(result.stderr).toMatch(/npm run gen -w @farm\/core/);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
    // Two full generations (openapi-typescript and prettier) are slow on a busy machine.
  }, 180_000);
});
