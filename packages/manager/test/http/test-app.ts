// A real manager transport (Express app, HTTP server, websockets) on port 0, with in-memory
// stand-ins for the database-backed services only: token lookup, the worker protocol handlers
// and readiness. Everything between the client and those three is the production code.
import { Writable } from 'node:stream';
import winston from 'winston';
import { FarmError, type AssignedTask, type Readiness } from '@farm/core';
import { createApp, type AppDeps } from '../../src/http/create-app';
import type { OperationDefinition } from '../../src/http/define-operation';
import { createWakeups, type Wakeups } from '../../src/http/long-poll';
import type { Principal, WorkerPrincipal } from '../../src/http/principal';
import { startServer, type RunningServer } from '../../src/http/serve';
import type { WorkerOperationHandlers, WorkerTransport } from '../../src/http/worker-operations';
import { createEventBus, type EventBus } from '../../src/events/event-bus';
import { createLiveSocket, type LiveSocket, type LiveSocketDeps } from '../../src/ws/live-socket';
import {
  createWorkerSocket,
  type WorkerSocket,
  type WorkerSocketDeps,
} from '../../src/ws/worker-socket';

export const TOKENS = {
  admin: 'tok-admin-0123456789',
  reader: 'tok-reader-0123456789',
  worker: 'tok-worker-0123456789',
  worker2: 'tok-worker2-0123456789',
} as const;

export const WORKER_ID = '11111111-1111-4111-8111-111111111111';
export const WORKER2_ID = '22222222-2222-4222-8222-222222222222';
export const TASK_ID = '33333333-3333-4333-8333-333333333333';
export const JOB_ID = '44444444-4444-4444-8444-444444444444';

const PRINCIPALS: Record<string, Principal> = {
  [TOKENS.admin]: { kind: 'user', userId: 'u-admin', name: 'Ada', isAdmin: true, scopes: [] },
  [TOKENS.reader]: {
    kind: 'user',
    userId: 'u-reader',
    name: 'Rex',
    isAdmin: false,
    scopes: ['jobs:read'],
    // A viewer somewhere: operations need a role as well as a scope (issue 7).
    roles: { '55555555-5555-4555-8555-555555555555': 'viewer' },
  },
  [TOKENS.worker]: { kind: 'worker', workerId: WORKER_ID, name: 'render-01' },
  [TOKENS.worker2]: { kind: 'worker', workerId: WORKER2_ID, name: 'render-02' },
};

export function assignedTask(id = TASK_ID): AssignedTask {
  return {
    id,
    jobId: JOB_ID,
    jobName: 'Shot 010',
    jobPriority: 50,
    jobType: 'echo-sleep-test',
    name: 'echo',
    type: 'misc',
    index: 0,
    priority: 50,
    commands: [{ name: 'echo', parameters: {} }],
  };
}

/** One call into the stand-in worker protocol, to show which transport carried it. */
export interface WorkerCall {
  op: keyof WorkerOperationHandlers;
  workerId: string;
  transport: WorkerTransport;
  body: unknown;
  params: unknown;
}

/** A stand-in for the worker-protocol services, with a queue of tasks to hand out. */
export function createWorkerHandlers(wakeups: Wakeups): {
  handlers: WorkerOperationHandlers;
  calls: WorkerCall[];
  queue: AssignedTask[];
} {
  const calls: WorkerCall[] = [];
  const queue: AssignedTask[] = [];
  const record = (
    op: WorkerCall['op'],
    worker: WorkerPrincipal,
    input: { transport: WorkerTransport; body: unknown; params: unknown },
  ): void => {
    calls.push({
      op,
      workerId: worker.workerId,
      transport: input.transport,
      body: input.body,
      params: input.params,
    });
  };
  const handlers: WorkerOperationHandlers = {
    signOn: (worker, input) => {
      record('signOn', worker, input);
      return Promise.resolve({ status: 200, body: { statusRequested: 'awake', lazy: false } });
    },
    signOff: (worker, input) => {
      record('signOff', worker, input);
      return Promise.resolve({ status: 204 });
    },
    claim: async (worker, input) => {
      record('claim', worker, input);
      const waitMs = input.body?.waitMs ?? 0;
      if (queue.length === 0 && waitMs > 0 && input.transport === 'http') {
        await wakeups.wait(worker.workerId, waitMs, input.signal);
      }
      const task = queue.shift();
      return task ? { status: 200, body: task } : { status: 204 };
    },
    updateTask: (worker, input) => {
      record('updateTask', worker, input);
      if (input.params.taskId !== TASK_ID) {
        return Promise.reject(
          new FarmError('not_found', `task ${input.params.taskId} does not exist`),
        );
      }
      return Promise.resolve({ status: 204 });
    },
    mayIRun: (worker, input) => {
      record('mayIRun', worker, input);
      return Promise.resolve({
        status: 200,
        body: { mayKeepRunning: true, statusChangeRequested: false },
      });
    },
    stateChanged: (worker, input) => {
      record('stateChanged', worker, input);
      return Promise.resolve({ status: 204 });
    },
    heartbeat: (worker, input) => {
      record('heartbeat', worker, input);
      return Promise.resolve({ status: 200, body: { statusRequested: null, lazy: false } });
    },
  };
  return { handlers, calls, queue };
}

/** Collects log entries in memory, at every level. */
export function createMemoryLogger(): {
  logger: winston.Logger;
  entries: Array<Record<string, unknown>>;
  text: () => string;
} {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  const logger = winston.createLogger({
    level: 'silly',
    format: winston.format.combine(winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Stream({ stream })],
  });
  return {
    logger,
    get entries() {
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    text: () => lines.join(''),
  };
}

export interface TestManager {
  url: string;
  wsUrl: string;
  running: RunningServer;
  logs: ReturnType<typeof createMemoryLogger>;
  wakeups: Wakeups;
  bus: EventBus;
  worker: ReturnType<typeof createWorkerHandlers>;
  workerSocket: WorkerSocket;
  liveSocket: LiveSocket;
  readiness: { value: Readiness };
  disconnected: string[];
  close(): Promise<void>;
}

export interface TestManagerOptions {
  operations?: OperationDefinition[];
  app?: Partial<AppDeps>;
  workerSocket?: Partial<WorkerSocketDeps>;
  liveSocket?: Partial<LiveSocketDeps>;
}

/** Starts the whole transport on a free port. */
export async function startTestManager(options: TestManagerOptions = {}): Promise<TestManager> {
  const logs = createMemoryLogger();
  const wakeups = createWakeups();
  const bus = createEventBus({ logger: logs.logger, coalesceWindowMs: 0 });
  const worker = createWorkerHandlers(wakeups);
  const readiness = { value: { ready: true, checks: { database: { ok: true } } } as Readiness };
  const disconnected: string[] = [];
  const authenticateToken = (token: string): Promise<Principal | null> =>
    Promise.resolve(PRINCIPALS[token] ?? null);
  const app = createApp({
    logger: logs.logger,
    authenticateToken,
    readiness: () => Promise.resolve(readiness.value),
    version: { name: 'Test Farm', version: '0.1.0' },
    workerHandlers: worker.handlers,
    operations: options.operations ?? [],
    ...options.app,
  });
  const workerSocket = createWorkerSocket({
    logger: logs.logger,
    authenticateToken,
    workerHandlers: worker.handlers,
    onWorkerDisconnected: (id) => disconnected.push(id),
    ...options.workerSocket,
  });
  const liveSocket = createLiveSocket({
    logger: logs.logger,
    authenticateToken,
    events: bus,
    ...options.liveSocket,
  });
  const running = await startServer(app, {
    port: 0,
    host: '127.0.0.1',
    attach: [(server) => workerSocket.attach(server), (server) => liveSocket.attach(server)],
    releaseLongPolls: () => wakeups.releaseAll(),
    shutdownTimeoutMs: 2000,
  });
  return {
    url: running.url,
    wsUrl: running.url.replace(/^http/, 'ws'),
    running,
    logs,
    wakeups,
    bus,
    worker,
    workerSocket,
    liveSocket,
    readiness,
    disconnected,
    close: async () => {
      await running.close();
      bus.close();
    },
  };
}

/** Waits until `condition()` holds, polling; fails after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** A response body as JSON, loosely typed for assertions. */

export async function json(res: Response): Promise<any> {
  return res.json();
}
