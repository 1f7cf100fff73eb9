/** Every status a worker can have. */
export const WORKER_STATUSES = [
  'starting',
  'awake',
  'asleep',
  'testing',
  'offline',
  'error',
] as const;

export type WorkerStatus = (typeof WORKER_STATUSES)[number];

/** True when `value` is one of `WORKER_STATUSES`. */
export function isWorkerStatus(value: unknown): value is WorkerStatus {
  return typeof value === 'string' && (WORKER_STATUSES as readonly string[]).includes(value);
}
