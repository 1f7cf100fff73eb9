import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db';
import { buildMessage, type CapturedEvent } from './notification-message';

/** Events taken from the outbox per transaction. */
const FAN_OUT_BATCH = 100;
/** Job statuses that mean work is still queued or running (a paused job is neither). */
const BUSY_JOB_STATUSES = [
  'queued',
  'active',
  'pause-requested',
  'cancel-requested',
  'requeueing',
] as const;
const FARM_IDLE_STATE_KEY = 'notifications.farm-idle-at';

/** Writes captured events to the outbox, in one statement. */
export async function storeEvents(
  db: Kysely<Database>,
  events: readonly CapturedEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('notification_events')
    .values(
      events.map((event) => ({
        kind: event.kind,
        job_id: event.jobId,
        task_id: event.taskId,
        worker_id: event.workerId,
        payload: JSON.stringify(event.data),
      })),
    )
    .execute();
}

/**
 * Called after a job finished: when no job is queued or running any more and the finished job
 * changed after the last `farm-idle`, stores a new `farm-idle` event. The state row is locked, so
 * of several replicas whose jobs finish at once exactly one stores it.
 */
export async function checkFarmIdle(db: Kysely<Database>, jobUpdated: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('farm_state')
      .values({ key: FARM_IDLE_STATE_KEY, value: JSON.stringify(null) })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const state = await trx
      .selectFrom('farm_state')
      .select('value')
      .where('key', '=', FARM_IDLE_STATE_KEY)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const lastIdleAt = typeof state.value === 'string' ? Date.parse(state.value) : 0;
    if (Date.parse(jobUpdated) <= lastIdleAt) return false;
    const busy = await trx
      .selectFrom('jobs')
      .select('id')
      .where('status', 'in', BUSY_JOB_STATUSES)
      .limit(1)
      .executeTakeFirst();
    if (busy) return false;
    await trx
      .updateTable('farm_state')
      .set({ value: sql`to_jsonb(now())`, updated_at: sql`now()` })
      .where('key', '=', FARM_IDLE_STATE_KEY)
      .execute();
    await trx
      .insertInto('notification_events')
      .values({ kind: 'farm-idle', job_id: null, task_id: null, worker_id: null, payload: '{}' })
      .execute();
    return true;
  });
}

interface JobFacts {
  projectId: string | null;
  submitterId: string | null;
}

/**
 * Turns outbox events into deliveries, one per matching subscription, and removes them from the
 * outbox, in one transaction that skips events another replica is fanning out. Job and task
 * events go only to subscribers who may see the job (admins, its submitter, members of its
 * project), filtered by the subscription's project and `onlyMyJobs`. Returns how many events were
 * handled.
 */
export async function fanOutEvents(db: Kysely<Database>): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const events = await trx
      .selectFrom('notification_events')
      .selectAll()
      .orderBy('id')
      .limit(FAN_OUT_BATCH)
      .forUpdate()
      .skipLocked()
      .execute();
    if (events.length === 0) return 0;
    const jobIds = [...new Set(events.flatMap((event) => (event.job_id ? [event.job_id] : [])))];
    const jobs = new Map<string, JobFacts>();
    if (jobIds.length > 0) {
      const rows = await trx
        .selectFrom('jobs')
        .select(['id', 'project_id', 'submitter_id'])
        .where('id', 'in', jobIds)
        .execute();
      for (const row of rows) {
        jobs.set(row.id, { projectId: row.project_id, submitterId: row.submitter_id });
      }
    }
    for (const event of events) {
      let query = trx
        .selectFrom('notification_subscriptions as s')
        .innerJoin('users as u', 'u.id', 's.user_id')
        .select('s.id')
        .where('s.enabled', '=', true)
        .where('u.disabled_at', 'is', null)
        .where(sql<boolean>`${event.kind} = any(s.events)`);
      if (event.job_id !== null) {
        const payloadProject = (event.payload.job as { project?: { id?: string } } | undefined)
          ?.project?.id;
        const facts = jobs.get(event.job_id) ?? {
          projectId: payloadProject ?? null,
          submitterId: null,
        };
        const projectId = facts.projectId;
        const submitterId = facts.submitterId;
        query = query.where((eb) =>
          eb.and([
            eb.or([eb('s.project_id', 'is', null), eb('s.project_id', '=', projectId)]),
            eb.or([eb('s.only_my_jobs', '=', false), eb('s.user_id', '=', submitterId)]),
            eb.or([
              eb('u.is_admin', '=', true),
              eb('s.user_id', '=', submitterId),
              eb.exists(
                eb
                  .selectFrom('project_members as pm')
                  .select('pm.user_id')
                  .whereRef('pm.user_id', '=', 's.user_id')
                  .where('pm.project_id', '=', projectId),
              ),
            ]),
          ]),
        );
      }
      const subscriptions = await query.execute();
      if (subscriptions.length === 0) continue;
      const message = JSON.stringify(buildMessage(event.kind, event.payload, event.created_at));
      await trx
        .insertInto('notification_deliveries')
        .values(
          subscriptions.map((subscription) => ({
            subscription_id: subscription.id,
            kind: event.kind,
            message,
          })),
        )
        .execute();
    }
    await trx
      .deleteFrom('notification_events')
      .where(
        'id',
        'in',
        events.map((event) => event.id),
      )
      .execute();
    return events.length;
  });
}
