import type { OperationDefinition } from '../../http/define-operation';
import type { WorkerOperationHandlers } from '../../http/worker-operations';
import { registerWorkerApiRoutes } from '../../routes/worker-api';
import { registerWorkerRoutes } from '../../routes/workers';
import { createPreviewService, type PreviewService } from '../previews';
import type { ServiceContext } from '../service-context';
import {
  createWorkerTokenAuthenticator,
  storeRegistrationSecret,
  type WorkerTokenAuthenticator,
} from './register-worker';
import type { WorkerChannels, WorkerServiceContext } from './worker-deps';
import { createWorkerOperationHandlers } from './worker-operation-handlers';
import { createProgressBuffer, type ProgressBuffer } from './progress-buffer';
import { createWorkerPresence, type WorkerPresence } from './worker-presence';

/** The manager's worker side, as the composition wires it. */
export interface WorkerSide {
  /** The worker protocol (both transports). */
  handlers: WorkerOperationHandlers;
  /** Resolves worker tokens (`farm_w_...`), cached briefly; null for any other token. */
  authenticateWorkerToken: WorkerTokenAuthenticator;
  /** Adds the worker management routes and `registerWorker` / `uploadTaskOutput`. */
  registerRoutes: (router: { push(...definitions: OperationDefinition[]): unknown }) => void;
  /** Pushes `stop-task` to the workers running these tasks (those connected here). */
  stopTasks: (taskIds: readonly string[], reason: string) => void;
  /** A worker's socket closed: nothing is taken from it yet (the worker timeout does that). */
  onWorkerDisconnected: (workerId: string) => void;
  /** Signs of life kept in memory; give it every live event (`presence.onEvent`). */
  presence: WorkerPresence;
  /** Progress of tasks assigned here, kept in memory; give it every live event (`onEvent`). */
  progress: ProgressBuffer;
  /** Writes the pending signs of life and progress, and stops their timers. */
  close: () => Promise<void>;
  /** Resolves once the registration secret is stored (registration waits for it too). */
  ready: Promise<void>;
}

/**
 * Builds the worker side: the protocol handlers, token authentication, routes and stop pushes.
 * The registration secret is stored hashed in `farm_state`, where every replica checks it.
 */
export function createWorkerSide(
  ctx: ServiceContext,
  options: WorkerChannels & {
    registrationSecret: string;
    /** Where uploaded images go; a default one (not closed with the manager) when not given. */
    previews?: PreviewService;
  },
): WorkerSide {
  const previews = options.previews ?? createPreviewService(ctx);
  // Last-seen times may lag by one interval: keep that well under the worker timeout.
  const presence = createWorkerPresence(ctx.db, {
    flushIntervalMs: Math.max(100, Math.min(2000, ctx.config.workerTimeoutMs / 4)),
    onError: (error) =>
      ctx.logger.warn('could not write workers` last-seen times', { error: String(error) }),
  });
  const progress = createProgressBuffer(ctx.db, {
    onError: (error) =>
      ctx.logger.warn('could not write progress reports', { error: String(error) }),
  });
  const workerCtx: WorkerServiceContext = {
    ...ctx,
    presence,
    progress,
    wakeups: options.wakeups,
    pushToWorker: (workerId, message) => options.pushToWorker(workerId, message),
  };
  const ready = storeRegistrationSecret(ctx.db, options.registrationSecret);
  ready.catch((error: unknown) =>
    ctx.logger.error('could not store the registration secret', { error: String(error) }),
  );
  const authenticateWorkerToken = createWorkerTokenAuthenticator(ctx.db);
  return {
    handlers: createWorkerOperationHandlers(workerCtx),
    authenticateWorkerToken,
    presence,
    progress,
    close: async () => {
      await progress.close();
      await presence.close();
    },
    ready,
    registerRoutes(router) {
      registerWorkerRoutes(router, workerCtx, authenticateWorkerToken);
      registerWorkerApiRoutes(router, workerCtx, ready, previews);
    },
    stopTasks(taskIds, reason) {
      if (taskIds.length === 0) return;
      ctx.db
        .selectFrom('tasks')
        .select(['id', 'worker_id'])
        .where('id', 'in', [...taskIds])
        .where('worker_id', 'is not', null)
        .execute()
        .then((rows) => {
          for (const row of rows) {
            options.pushToWorker(row.worker_id!, { type: 'stop-task', taskId: row.id, reason });
          }
        })
        .catch((error: unknown) =>
          ctx.logger.warn('could not tell workers to stop tasks', { error: String(error) }),
        );
    },
    onWorkerDisconnected(workerId) {
      ctx.logger.debug('worker socket closed', { workerId });
    },
  };
}
