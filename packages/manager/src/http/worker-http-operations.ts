import { FarmError, OPERATIONS, type OperationId, type WorkerSocketOperation } from '@farm/core';
import { defineOperation, respond, type OperationDefinition } from './define-operation';
import {
  WORKER_SOCKET_OPERATIONS,
  runWorkerOperation,
  type WorkerOperationHandlers,
} from './worker-operations';

/** The HTTP routes of the worker protocol, calling the same handlers as the worker websocket. */
export function createWorkerHttpOperations(
  handlers: WorkerOperationHandlers,
): OperationDefinition[] {
  return (Object.keys(WORKER_SOCKET_OPERATIONS) as WorkerSocketOperation[]).map((op) => {
    const operationId = WORKER_SOCKET_OPERATIONS[op];
    if (OPERATIONS[operationId].socketOp !== op) {
      throw new FarmError(
        'internal',
        `operation ${operationId} is not the socket op ${op} in the API document`,
      );
    }
    const definition: OperationDefinition = defineOperation<OperationId>(
      operationId,
      async (input, ctx) => {
        // The operations table says `auth: worker`, so authentication guaranteed a worker here.
        if (input.principal?.kind !== 'worker')
          throw new FarmError('forbidden', 'this endpoint is for workers');
        const result = await runWorkerOperation(handlers, op, input.principal, {
          params: input.params as { taskId?: string },
          body: input.body,
          signal: ctx.signal,
          transport: 'http',
        });
        return respond(result.status, result.body);
      },
    );
    return definition;
  });
}
