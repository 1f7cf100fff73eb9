// The worker protocol (openapi.yaml: the worker API and `/api/v1/ws/worker`) as the daemon uses it:
// core's generated types, plus the few constants and helpers the worker needs.
import type { TaskUpdate, WorkerRequestedStatus, WorkerStatus } from '@farm/core';

export type {
  AssignedTask,
  HostStats,
  MayKeepRunning,
  WorkerSocketOp,
  WorkerSocketPush,
  WorkerSocketRequest,
  WorkerSocketResponse,
} from '@farm/core';
export type { WorkerStatus };

/** What the worker reports about a task; every field optional, `log` appended. */
export type TaskUpdateBody = TaskUpdate;

/** The status the manager wants (sign-on and heartbeat answers, 423 bodies); null: none. */
export interface WorkerStateChange {
  statusRequested: WorkerRequestedStatus | null;
  lazy: boolean;
}

/** The platform name the API uses for this machine. */
export function apiPlatform(
  platform: NodeJS.Platform = process.platform,
): 'linux' | 'windows' | 'darwin' {
  if (platform === 'win32') return 'windows';
  if (platform === 'darwin') return 'darwin';
  return 'linux';
}

export const API_PREFIX = '/api/v1';
export const WORKER_SOCKET_PATH = '/api/v1/ws/worker';
export const MAX_TASK_UPDATE_LOG_CHARS = 1024 * 1024;
