import type { WorkerStatus } from './worker-status';

/**
 * What a person may ask of a worker: wake (`awake`), sleep (`asleep`), shut down (`offline`),
 * `restart` (the worker process restarts and signs on again) and `testing`.
 */
export const WORKER_REQUESTED_STATUSES = [
  'awake',
  'asleep',
  'offline',
  'restart',
  'testing',
] as const;

export type WorkerRequestedStatus = (typeof WORKER_REQUESTED_STATUSES)[number];

/** True when `value` is one of `WORKER_REQUESTED_STATUSES`. */
export function isWorkerRequestedStatus(value: unknown): value is WorkerRequestedStatus {
  return (
    typeof value === 'string' && (WORKER_REQUESTED_STATUSES as readonly string[]).includes(value)
  );
}

/** A pending status change for a worker: `lazy` ones wait until the current task is done. */
export interface WorkerStatusRequest {
  status: WorkerRequestedStatus;
  lazy: boolean;
}

/**
 * Whether the worker must stop its running task now. Only immediate requests stop it; lazy ones
 * let it finish (Flamenco stopped the task for lazy requests too). Waking never interrupts work.
 * A stopped task is requeued for another worker (`taskStatusWhenStopped`), not failed.
 */
export function shouldStopCurrentTask(request: WorkerStatusRequest | null | undefined): boolean {
  return request != null && !request.lazy && request.status !== 'awake';
}

/**
 * Whether the worker may claim a new task: only when awake and nothing but a wake request is
 * pending. A lazy request takes effect here, between tasks.
 */
export function mayClaimTask(
  status: WorkerStatus,
  request: WorkerStatusRequest | null | undefined,
): boolean {
  return status === 'awake' && (request == null || request.status === 'awake');
}

/** The worker status that fulfils a request; a restarting worker signs on again as `starting`. */
export function workerStatusForRequest(request: WorkerStatusRequest): WorkerStatus {
  return request.status === 'restart' ? 'starting' : request.status;
}
