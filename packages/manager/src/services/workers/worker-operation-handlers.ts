import { FarmError } from '@farm/core';
import type { WorkerOperationHandlers } from '../../http/worker-operations';
import { claimWork } from './claim-work';
import { mayIRun, updateTask } from './update-task';
import type { WorkerServiceContext } from './worker-deps';
import { heartbeat, signOff, signOn, stateChanged } from './worker-session';

function taskIdOf(params: { taskId?: string }): string {
  if (!params.taskId) throw new FarmError('bad_request', 'this operation needs a taskId');
  return params.taskId;
}

/**
 * The worker protocol's handlers, served by both the HTTP routes and the worker websocket. Over
 * the socket a claim waits up to the asked `waitMs` too; the manager also pushes
 * `work-available`, so a socket worker may as well ask with `waitMs: 0`.
 */
export function createWorkerOperationHandlers(ctx: WorkerServiceContext): WorkerOperationHandlers {
  return {
    signOn: async (worker, { body }) => ({ status: 200, body: await signOn(ctx, worker, body) }),
    signOff: async (worker, { body }) => {
      await signOff(ctx, worker, body);
      return { status: 204 };
    },
    claim: async (worker, { body, signal }) => {
      const outcome = await claimWork(ctx, worker, { waitMs: body?.waitMs ?? 0, signal });
      switch (outcome.kind) {
        case 'task':
          return { status: 200, body: outcome.task };
        case 'none':
          return { status: 204 };
        case 'status-change':
          return { status: 423, body: outcome.change };
        case 'not-awake':
          throw new FarmError(
            'conflict',
            `the worker is ${outcome.status}; only awake workers get tasks`,
            { details: { reason: 'worker-not-awake' } },
          );
      }
    },
    updateTask: async (worker, { params, body }) => {
      await updateTask(ctx, worker, taskIdOf(params), body);
      return { status: 204 };
    },
    mayIRun: async (worker, { params }) => ({
      status: 200,
      body: await mayIRun(ctx, worker, taskIdOf(params)),
    }),
    stateChanged: async (worker, { body }) => {
      await stateChanged(ctx, worker, body);
      return { status: 204 };
    },
    heartbeat: async (worker, { body }) => ({
      status: 200,
      body: await heartbeat(ctx, worker, body),
    }),
  };
}
