import {
  type HeartbeatResponse,
  type WorkerHeartbeat,
  type WorkerSignOff,
  type WorkerSignOn,
  type WorkerStateChange,
  type WorkerStateChanged,
  type WorkerRequestedStatus,
  workerStatusForRequest,
} from '@farm/core';
import { sql } from 'kysely';
import { findSleepSchedule, findWorker, workerNotFound } from '../../db/queries/workers';
import type { WorkerPrincipal } from '../../http/principal';
import type { ServiceContext } from '../service-context';
import { handBackWorkerTasks } from './hand-back-tasks';
import { normaliseTaskTypes } from './register-worker';
import { scheduledStatus } from './sleep-schedule';
import type { WorkerPresence, WorkerState } from './worker-presence';
import { publishWorker, publishWorkerStats } from './worker-view';

/**
 * Starts a worker's session: it is `starting`, with what it says about itself, and is told the
 * status to take: a pending request, else what its sleep schedule says, else `awake`. A worker
 * that was `error` (timed out) recovers here by itself (Flamenco kept it stuck until a person
 * woke it). A task still active on it stays: the worker's next claim gets it back.
 */
export async function signOn(
  ctx: ServiceContext,
  worker: WorkerPrincipal,
  body: WorkerSignOn,
  address = '',
): Promise<WorkerStateChange> {
  const previous = await findWorker(ctx.db, worker.workerId);
  if (!previous) throw workerNotFound(worker.workerId);
  const row = await ctx.db
    .updateTable('workers')
    .set({
      status: 'starting',
      name: body.name,
      platform: body.platform,
      task_types: normaliseTaskTypes(body.taskTypes),
      ...(body.tags ? { tags: body.tags } : {}),
      version: body.version,
      ...(address ? { address } : {}),
      ...(body.hostStats ? { host_stats: JSON.stringify(body.hostStats) } : {}),
      signed_on_at: new Date(),
      last_seen_at: new Date(),
      updated_at: new Date(),
    })
    .where('id', '=', worker.workerId)
    .returningAll()
    .executeTakeFirstOrThrow();
  await publishWorker(ctx, worker.workerId, previous.status);
  publishWorkerStats(ctx, worker.workerId, body.hostStats);
  if (row.status_requested !== null) {
    return {
      statusRequested: row.status_requested as WorkerRequestedStatus,
      lazy: row.status_requested_lazy,
    };
  }
  const scheduled = scheduledStatus(
    await findSleepSchedule(ctx.db, worker.workerId).then((s) =>
      s
        ? {
            isActive: s.is_active,
            daysOfWeek: s.days_of_week as never,
            startTime: s.start_time,
            endTime: s.end_time,
            timeZone: s.time_zone,
          }
        : undefined,
    ),
  );
  return { statusRequested: scheduled ?? 'awake', lazy: false };
}

/**
 * Ends a worker's session: it is `offline`, a pending `offline` request is fulfilled, and its
 * active tasks are handed back at once (requeued for other workers, no failure counted).
 */
export async function signOff(
  ctx: ServiceContext,
  worker: WorkerPrincipal,
  body: WorkerSignOff | undefined,
): Promise<void> {
  const previous = await findWorker(ctx.db, worker.workerId);
  if (!previous) throw workerNotFound(worker.workerId);
  await ctx.db
    .updateTable('workers')
    .set({
      status: 'offline',
      last_seen_at: new Date(),
      updated_at: new Date(),
      ...(previous.status_requested === 'offline'
        ? { status_requested: null, status_requested_lazy: false }
        : {}),
    })
    .where('id', '=', worker.workerId)
    .execute();
  void body; // Every active task is handed back, listed or not: an offline worker runs nothing.
  await handBackWorkerTasks(
    ctx,
    { id: worker.workerId, name: worker.name },
    `Worker ${worker.name} signed off`,
  );
  await publishWorker(ctx, worker.workerId, previous.status);
}

/**
 * Records the status a worker took. A pending request it fulfils is cleared (one it does not
 * fulfil stays, with a warning); a worker leaving `awake` hands its active tasks back.
 */
export async function stateChanged(
  ctx: ServiceContext,
  worker: WorkerPrincipal,
  body: WorkerStateChanged,
): Promise<void> {
  const previous = await findWorker(ctx.db, worker.workerId);
  if (!previous) throw workerNotFound(worker.workerId);
  const request =
    previous.status_requested === null
      ? null
      : {
          status: previous.status_requested as WorkerRequestedStatus,
          lazy: previous.status_requested_lazy,
        };
  const fulfils = request !== null && workerStatusForRequest(request) === body.status;
  if (request !== null && !fulfils) {
    ctx.logger.warn('worker changed to a status other than the one requested', {
      workerId: worker.workerId,
      status: body.status,
      requested: request.status,
    });
  }
  await ctx.db
    .updateTable('workers')
    .set({
      status: body.status,
      last_seen_at: new Date(),
      updated_at: new Date(),
      ...(fulfils ? { status_requested: null, status_requested_lazy: false } : {}),
    })
    .where('id', '=', worker.workerId)
    .execute();
  if (body.status !== 'awake') {
    await handBackWorkerTasks(
      ctx,
      { id: worker.workerId, name: worker.name },
      `Worker ${worker.name} went ${body.status}`,
    );
  }
  await publishWorker(ctx, worker.workerId, previous.status);
}

/**
 * Records a sign of life (and host stats); answers the pending status request, if any. With a
 * `presence` (the manager has one) that is memory only: the sign of life is written in the next
 * batch and the answer comes from the worker's remembered state (read once, then kept current
 * by the batches and by `worker-updated` events).
 */
export async function heartbeat(
  ctx: ServiceContext & { presence?: WorkerPresence },
  worker: WorkerPrincipal,
  body: WorkerHeartbeat | undefined,
): Promise<HeartbeatResponse> {
  const stats = body?.hostStats ? JSON.stringify(body.hostStats) : null;
  const presence = ctx.presence;
  if (presence) {
    presence.seen(worker.workerId, stats);
    let state = presence.state(worker.workerId);
    if (!state) {
      const row = await ctx.db
        .selectFrom('workers')
        .select(['status', 'status_requested', 'status_requested_lazy'])
        .where('id', '=', worker.workerId)
        .executeTakeFirst();
      if (!row) throw workerNotFound(worker.workerId);
      state = {
        status: row.status,
        statusRequested: row.status_requested,
        statusRequestedLazy: row.status_requested_lazy,
      };
      presence.remember(worker.workerId, state);
    }
    publishWorkerStats(ctx, worker.workerId, body?.hostStats);
    return heartbeatAnswer(state);
  }
  const { rows } = await sql<{
    status: string;
    status_requested: string | null;
    status_requested_lazy: boolean;
  }>`
    update workers set last_seen_at = now(), host_stats = coalesce(${stats}::jsonb, host_stats)
    where id = ${worker.workerId}
    returning status, status_requested, status_requested_lazy`.execute(ctx.db);
  const row = rows[0];
  if (!row) throw workerNotFound(worker.workerId);
  // Pages draw CPU and memory over time from these; a heartbeat without stats publishes nothing.
  publishWorkerStats(ctx, worker.workerId, body?.hostStats);
  return heartbeatAnswer({
    status: row.status,
    statusRequested: row.status_requested,
    statusRequestedLazy: row.status_requested_lazy,
  });
}

function heartbeatAnswer(state: WorkerState): HeartbeatResponse {
  // A timed-out (`error`) worker that is heard from again recovers by itself.
  if (state.status === 'error' && state.statusRequested === null) {
    return { statusRequested: 'awake', lazy: false };
  }
  return {
    statusRequested: (state.statusRequested as WorkerRequestedStatus | null) ?? null,
    lazy: state.statusRequestedLazy,
  };
}
