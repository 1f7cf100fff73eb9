import type { BroadcastEvent } from '@farm/core';

/** The events a subscription can listen to (the API's `NotificationEvent`). */
export const NOTIFICATION_EVENTS = [
  'job-completed',
  'job-failed',
  'job-canceled',
  'task-failed',
  'worker-offline',
  'worker-error',
  'farm-idle',
] as const;
export type NotificationEventKind = (typeof NOTIFICATION_EVENTS)[number];

/** What happened, as captured from the event bus: the kind and a snapshot of what it is about. */
export interface CapturedEvent {
  kind: NotificationEventKind;
  jobId: string | null;
  taskId: string | null;
  workerId: string | null;
  /** The job, task or worker as the live event described it (API field names). */
  data: Record<string, unknown>;
}

/** One notification, independent of the channel: every channel formats this. */
export interface NotificationMessage {
  /** A `NotificationEventKind`, or `test`. */
  event: string;
  title: string;
  text: string;
  /** `good`, `bad` or `info`: chat channels colour by it. */
  severity: 'good' | 'bad' | 'info';
  occurredAt: string;
  data: Record<string, unknown>;
}

const JOB_KINDS = {
  completed: 'job-completed',
  failed: 'job-failed',
  canceled: 'job-canceled',
} as const;

/**
 * The notification an event of the bus stands for, or null. Only transitions count (the event
 * carries `previousStatus` only when the status changed), so a later update of a finished job is
 * not notified twice.
 */
export function captureEvent(event: BroadcastEvent): CapturedEvent | null {
  switch (event.type) {
    case 'job-updated': {
      if (event.previousStatus === undefined) return null;
      const kind = JOB_KINDS[event.job.status as keyof typeof JOB_KINDS];
      if (!kind) return null;
      return { kind, jobId: event.job.id, taskId: null, workerId: null, data: { job: event.job } };
    }
    case 'task-updated':
      if (event.task.status !== 'failed' || event.previousStatus === 'failed') return null;
      if (event.previousStatus === undefined) return null;
      return {
        kind: 'task-failed',
        jobId: event.jobId,
        taskId: event.task.id,
        workerId: null,
        data: { jobId: event.jobId, task: event.task },
      };
    case 'worker-updated': {
      if (event.previousStatus === undefined) return null;
      const status = event.worker.status;
      if (status !== 'offline' && status !== 'error') return null;
      return {
        kind: status === 'offline' ? 'worker-offline' : 'worker-error',
        jobId: null,
        taskId: null,
        workerId: event.worker.id,
        data: { worker: event.worker },
      };
    }
    default:
      return null;
  }
}

interface NamedThing {
  id?: string;
  name?: string;
  type?: string;
  status?: string;
  activity?: string;
  project?: { name?: string };
  taskCounts?: Record<string, number>;
}

/** Renders a captured event as the text people read. */
export function buildMessage(
  kind: string,
  data: Record<string, unknown>,
  occurredAt: Date,
): NotificationMessage {
  const job = data.job as NamedThing | undefined;
  const task = data.task as NamedThing | undefined;
  const worker = data.worker as NamedThing | undefined;
  const base = { event: kind, occurredAt: occurredAt.toISOString(), data };
  switch (kind) {
    case 'job-completed':
    case 'job-failed':
    case 'job-canceled': {
      const verb = kind.slice('job-'.length);
      const counts = job?.taskCounts ?? {};
      const done = counts.completed ?? 0;
      const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
      return {
        ...base,
        title: `Job "${job?.name ?? '?'}" ${verb}`,
        text:
          `Job "${job?.name ?? '?'}" (${job?.type ?? '?'}) in project ` +
          `${job?.project?.name ?? '?'} ${verb}: ${done} of ${total} tasks completed.` +
          (kind === 'job-completed' || !job?.activity ? '' : ` ${job.activity}`),
        severity: kind === 'job-completed' ? 'good' : 'bad',
      };
    }
    case 'task-failed':
      return {
        ...base,
        title: `Task "${task?.name ?? '?'}" failed`,
        text:
          `Task "${task?.name ?? '?'}" of job ${String(data.jobId)} failed.` +
          (task?.activity ? ` ${task.activity}` : ''),
        severity: 'bad',
      };
    case 'worker-offline':
    case 'worker-error':
      return {
        ...base,
        title: `Worker "${worker?.name ?? '?'}" is ${kind === 'worker-offline' ? 'offline' : 'in error'}`,
        text: `Worker "${worker?.name ?? '?'}" went ${worker?.status ?? '?'}.`,
        severity: 'bad',
      };
    case 'farm-idle':
      return {
        ...base,
        title: 'The farm is idle',
        text: 'No job is queued or running any more.',
        severity: 'info',
      };
    default:
      return {
        ...base,
        title: 'Test notification from Farm',
        text: 'This is a test: the subscription reaches its channel.',
        severity: 'info',
      };
  }
}
