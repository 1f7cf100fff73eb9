import { FarmError } from '@farm/core';
import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import type { PreviewService } from '../services/previews';
import { registerWorker } from '../services/workers/register-worker';
import { storeTaskOutput } from '../services/workers/task-output';
import type { WorkerServiceContext } from '../services/workers/worker-deps';
import type { OperationRegistry } from './operation-registry';

/**
 * The worker operations that are not part of the socket protocol: registration (no credential
 * but the farm's secret) and image uploads. The protocol operations themselves (sign-on, claim,
 * updates, ...) are routed by the shell from `createWorkerOperationHandlers`.
 */
export function registerWorkerApiRoutes(
  router: OperationRegistry,
  ctx: WorkerServiceContext,
  ready: Promise<void>,
  previews: PreviewService,
): void {
  const definitions: OperationDefinition[] = [
    defineOperation('registerWorker', async ({ body }) => {
      await ready;
      return respond(201, await registerWorker(ctx, body));
    }),
    defineOperation('uploadTaskOutput', async ({ principal, params, rawBody, contentType }) => {
      if (principal?.kind !== 'worker')
        throw new FarmError('forbidden', 'this endpoint is for workers');
      if (!rawBody || !contentType)
        throw new FarmError('bad_request', 'send the image as the body');
      await storeTaskOutput(ctx, previews, principal, params.taskId, rawBody, contentType);
      return respond(202);
    }),
  ];
  router.push(...definitions);
}
