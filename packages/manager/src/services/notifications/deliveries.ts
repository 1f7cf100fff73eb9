import { sql, type Selectable } from 'kysely';
import { FarmError, type NotificationDelivery } from '@farm/core';
import { decodeCursor, encodeCursor } from '../../db/queries/jobs';
import type { NotificationDeliveriesTable } from '../../db/notification-tables';
import type { ServiceContext } from '../service-context';
import { buildMessage } from './notification-message';

type DeliveryRow = Selectable<NotificationDeliveriesTable>;
const DEFAULT_LIMIT = 100;

async function assertOwned(ctx: ServiceContext, userId: string, id: string): Promise<void> {
  const row = await ctx.db
    .selectFrom('notification_subscriptions')
    .select('id')
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!row) {
    throw new FarmError('not_found', `no notification subscription ${id}`, {
      details: { subscriptionId: id },
    });
  }
}

/** The API form of a delivery log entry. */
export function toApiDelivery(row: DeliveryRow): NotificationDelivery {
  const message = row.message as { title?: string };
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    event: row.kind,
    test: row.is_test,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    title: message.title ?? '',
    created: row.created_at.toISOString(),
    nextAttempt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    delivered: row.delivered_at?.toISOString() ?? null,
    attemptLog: row.attempt_log as NotificationDelivery['attemptLog'],
  };
}

/** A page of a subscription's delivery log, newest first. */
export async function listDeliveries(
  ctx: ServiceContext,
  userId: string,
  subscriptionId: string,
  query: { limit?: number; cursor?: string },
): Promise<{ items: NotificationDelivery[]; nextCursor: string | null }> {
  await assertOwned(ctx, userId, subscriptionId);
  const limit = query.limit ?? DEFAULT_LIMIT;
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
  let select = ctx.db
    .selectFrom('notification_deliveries as d')
    .selectAll('d')
    .select(sql<string>`d.created_at::text`.as('sort_key'))
    .where('d.subscription_id', '=', subscriptionId);
  if (after) {
    select = select.where(
      sql<boolean>`(d.created_at, d.id) < (${after.k}::timestamptz, ${after.id}::uuid)`,
    );
  }
  const rows = await select
    .orderBy('d.created_at', 'desc')
    .orderBy('d.id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => toApiDelivery(row)),
    nextCursor:
      rows.length > limit && last ? encodeCursor({ k: last.sort_key, id: last.id }) : null,
  };
}

/** Queues a test notification for one of the user's subscriptions, enabled or not. */
export async function queueTestNotification(
  ctx: ServiceContext & { wake(): void },
  userId: string,
  subscriptionId: string,
): Promise<NotificationDelivery> {
  await assertOwned(ctx, userId, subscriptionId);
  const row = await ctx.db
    .insertInto('notification_deliveries')
    .values({
      subscription_id: subscriptionId,
      kind: 'test',
      is_test: true,
      message: JSON.stringify(buildMessage('test', {}, new Date())),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  ctx.wake();
  return toApiDelivery(row);
}
