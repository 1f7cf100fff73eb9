import type { WorkerSocketPush } from '@farm/core';
import type { Wakeups } from '../http/long-poll';
import type { WorkerOperationHandlers } from '../http/worker-operations';

/**
 * Tells idle workers that work may be available, cheaply. Only workers whose last claim over the
 * socket found nothing get a `work-available` push (a busy worker claims again when its task ends
 * anyway), long polls are woken, and many calls in one tick make one burst and one cross-replica
 * notification. Pushing to every connected worker on every task completion cost a third of the
 * manager's CPU in the dispatch benchmark (docs/performance.md).
 */
export interface WorkWakeups {
  /** Wakes idle workers here and on every other replica. */
  wake(): void;
  /** Wakes idle workers connected to this replica (a notification from another one arrived). */
  wakeLocal(): void;
  /** Wraps the claim handler so it knows which socket workers are idle. */
  trackClaims(handlers: WorkerOperationHandlers): WorkerOperationHandlers;
  /** A worker's socket closed. */
  forget(workerId: string): void;
}

export function createWorkWakeups(options: {
  wakeups: Wakeups;
  pushToWorker(workerId: string, message: WorkerSocketPush): boolean;
  notifyReplicas(): void;
}): WorkWakeups {
  const idleSocketWorkers = new Set<string>();
  let localPending = false;
  let remotePending = false;

  const flush = (): void => {
    localPending = false;
    options.wakeups.wakeAll();
    const idle = [...idleSocketWorkers];
    // A woken worker claims; it is marked idle again only if that claim finds nothing.
    idleSocketWorkers.clear();
    for (const workerId of idle) options.pushToWorker(workerId, { type: 'work-available' });
    if (remotePending) {
      remotePending = false;
      options.notifyReplicas();
    }
  };
  const schedule = (): void => {
    if (localPending) return;
    localPending = true;
    setImmediate(flush);
  };

  return {
    wake() {
      remotePending = true;
      schedule();
    },
    wakeLocal: schedule,
    trackClaims(handlers) {
      return {
        ...handlers,
        claim: async (worker, input) => {
          const result = await handlers.claim(worker, input);
          if (input.transport === 'ws' && result.status === 204) {
            idleSocketWorkers.add(worker.workerId);
          } else {
            idleSocketWorkers.delete(worker.workerId);
          }
          return result;
        },
      };
    },
    forget(workerId) {
      idleSocketWorkers.delete(workerId);
    },
  };
}
