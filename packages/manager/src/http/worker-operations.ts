import type {
  ClaimRequest,
  OperationId,
  TaskUpdate,
  WorkerHeartbeat,
  WorkerSignOff,
  WorkerSignOn,
  WorkerSocketOperation,
  WorkerStateChanged,
} from '@farm/core';
import type { WorkerPrincipal } from './principal';

/** Which transport carried a worker operation; handlers answer the same either way. */
export type WorkerTransport = 'http' | 'ws';

/** The validated input of one worker operation, whichever transport it came over. */
export interface WorkerOperationInput<TBody> {
  /** Path parameters (`taskId` for `updateTask` and `mayIRun`). */
  params: { taskId?: string };
  body: TBody;
  /** Aborted when the client goes away (HTTP request closed, websocket closed). */
  signal: AbortSignal;
  transport: WorkerTransport;
}

/** What a worker operation answers: the HTTP status and body (an `Error` body for 4xx/5xx). */
export interface WorkerOperationResult {
  status: number;
  body?: unknown;
}

export type WorkerOperationHandler<TBody> = (
  worker: WorkerPrincipal,
  input: WorkerOperationInput<TBody>,
) => Promise<WorkerOperationResult>;

/**
 * The worker protocol, implemented once by the services and served over both HTTP
 * (`/api/v1/worker/...`) and the worker websocket. Bodies are validated against the operation's
 * schema before a handler runs. A handler may throw a FarmError; both transports turn it into the
 * same status and error body.
 */
export interface WorkerOperationHandlers {
  signOn: WorkerOperationHandler<WorkerSignOn>;
  signOff: WorkerOperationHandler<WorkerSignOff | undefined>;
  /** Over HTTP this long-polls up to `waitMs`; over the socket it may answer 204 at once, as the
   * manager pushes `work-available` when there is news. `input.transport` tells them apart. */
  claim: WorkerOperationHandler<ClaimRequest | undefined>;
  updateTask: WorkerOperationHandler<TaskUpdate>;
  mayIRun: WorkerOperationHandler<undefined>;
  stateChanged: WorkerOperationHandler<WorkerStateChanged>;
  heartbeat: WorkerOperationHandler<WorkerHeartbeat | undefined>;
}

/** The operationId of each websocket op (the same table as the document's `x-farm-websockets`). */
export const WORKER_SOCKET_OPERATIONS: Readonly<Record<WorkerSocketOperation, OperationId>> = {
  signOn: 'signOn',
  signOff: 'signOff',
  claim: 'claimTask',
  updateTask: 'updateTask',
  mayIRun: 'mayIRun',
  stateChanged: 'workerStateChanged',
  heartbeat: 'workerHeartbeat',
};

/** Calls the handler of `op`; the single entry point both transports use. */
export function runWorkerOperation(
  handlers: WorkerOperationHandlers,
  op: WorkerSocketOperation,
  worker: WorkerPrincipal,
  input: WorkerOperationInput<unknown>,
): Promise<WorkerOperationResult> {
  // The body was validated against this op's schema, so the cast only restates what ajv checked.
  const handler = handlers[op] as WorkerOperationHandler<unknown>;
  return handler(worker, input);
}
