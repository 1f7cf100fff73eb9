import { sql, type Kysely, type Selectable } from 'kysely';
import type { Logger } from 'winston';
import type { Database } from '../../db';
import type { NotificationDeliveriesTable } from '../../db/notification-tables';
import { buildChannelRequest, type ChannelTarget } from './channel-request';
import type { NotificationMessage } from './notification-message';

type DeliveryRow = Selectable<NotificationDeliveriesTable>;

/** Deliveries claimed per round. */
const DELIVERY_BATCH = 20;
/** How long a claimed delivery is ours; longer than a send can take, so no two replicas send it. */
const LEASE_SECONDS = 60;
const SEND_TIMEOUT_MS = 15_000;
const MAX_RETRY_DELAY_MS = 60 * 60_000;
const MAX_ERROR_LENGTH = 500;

/** Sends an e-mail; made from `smtp_url` by the caller (nodemailer). */
export type SendMail = (mail: { to: string; subject: string; text: string }) => Promise<void>;

export interface DeliveryOptions {
  db: Kysely<Database>;
  logger: Logger;
  retryBaseMs: number;
  maxAttempts: number;
  /** Absent when no SMTP server is configured: e-mail deliveries fail with a clear error. */
  sendMail?: SendMail;
}

interface Outcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** A failure that a retry cannot fix (a 4xx other than 408 and 429, no SMTP server). */
  permanent: boolean;
}

/** The delay before attempt `attempts + 1`: the base, doubled per attempt so far, capped. */
export function retryDelayMs(baseMs: number, attempts: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempts - 1), MAX_RETRY_DELAY_MS);
}

function redact(text: string, secrets: readonly (string | null)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out.slice(0, MAX_ERROR_LENGTH);
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${error.message}: ${detail}` : error.message;
}

async function send(
  options: DeliveryOptions,
  target: ChannelTarget,
  delivery: DeliveryRow,
): Promise<Outcome> {
  const message = delivery.message as unknown as NotificationMessage;
  const secrets = [target.secret, target.url];
  try {
    if (target.channel === 'email') {
      if (!options.sendMail) {
        return {
          ok: false,
          statusCode: null,
          error: 'no SMTP server configured (smtp_url)',
          permanent: true,
        };
      }
      await options.sendMail({
        to: target.email ?? '',
        subject: `[Farm] ${message.title}`,
        text: `${message.text}\n\n(${message.event}, ${message.occurredAt})\n`,
      });
      return { ok: true, statusCode: null, error: null, permanent: false };
    }
    const request = buildChannelRequest(target, message, delivery.id);
    if (!request) throw new Error(`channel ${target.channel} has no HTTP request`);
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    // The answer's body is not needed; read it so the connection can be reused.
    await response.arrayBuffer().catch(() => undefined);
    const status = response.status;
    if (status >= 200 && status < 300) {
      return { ok: true, statusCode: status, error: null, permanent: false };
    }
    return {
      ok: false,
      statusCode: status,
      error: `HTTP ${status}`,
      permanent: status >= 400 && status < 500 && status !== 408 && status !== 429,
    };
  } catch (error) {
    return {
      ok: false,
      statusCode: null,
      error: redact(describeFailure(error), secrets),
      permanent: false,
    };
  }
}

async function record(
  options: DeliveryOptions,
  delivery: DeliveryRow,
  outcome: Outcome,
): Promise<void> {
  const entry = JSON.stringify([
    { at: new Date().toISOString(), statusCode: outcome.statusCode, error: outcome.error },
  ]);
  const giveUp = outcome.permanent || delivery.attempts >= options.maxAttempts;
  const nextAttemptAt = new Date(Date.now() + retryDelayMs(options.retryBaseMs, delivery.attempts));
  await options.db
    .updateTable('notification_deliveries')
    .set({
      status: outcome.ok ? 'delivered' : giveUp ? 'failed' : 'pending',
      last_status_code: outcome.statusCode,
      last_error: outcome.error,
      attempt_log: sql`attempt_log || ${entry}::jsonb`,
      locked_until: null,
      updated_at: sql`now()`,
      ...(outcome.ok ? { delivered_at: sql`now()` } : {}),
      ...(!outcome.ok && !giveUp ? { next_attempt_at: nextAttemptAt } : {}),
    })
    .where('id', '=', delivery.id)
    .execute();
  if (!outcome.ok) {
    // The subscription id, never its URL or secret.
    options.logger.warn('notification not delivered', {
      deliveryId: delivery.id,
      subscriptionId: delivery.subscription_id,
      attempt: delivery.attempts,
      statusCode: outcome.statusCode,
      error: outcome.error,
      willRetry: !giveUp,
    });
  }
}

/**
 * Claims the deliveries that are due (a lease, taken with SKIP LOCKED, so each is sent by one
 * replica; a replica that dies mid-send leaves them to the others when the lease ends), sends
 * them at once, and records each outcome: delivered, retried later with exponential back-off, or
 * failed after `maxAttempts`. Returns how many were claimed.
 */
export async function deliverDue(options: DeliveryOptions): Promise<number> {
  const { rows } = await sql<DeliveryRow>`
    update notification_deliveries
       set locked_until = now() + make_interval(secs => ${LEASE_SECONDS}),
           attempts = attempts + 1,
           updated_at = now()
     where id in (
       select id from notification_deliveries
        where status = 'pending'
          and next_attempt_at <= now()
          and (locked_until is null or locked_until < now())
        order by next_attempt_at
        limit ${DELIVERY_BATCH}
        for update skip locked)
    returning *`.execute(options.db);
  if (rows.length === 0) return 0;
  const subscriptionIds = [...new Set(rows.map((row) => row.subscription_id))];
  const subscriptions = await options.db
    .selectFrom('notification_subscriptions')
    .select(['id', 'channel', 'url', 'email', 'room_id', 'chat_id', 'secret'])
    .where('id', 'in', subscriptionIds)
    .execute();
  const targets = new Map<string, ChannelTarget>(
    subscriptions.map((s) => [
      s.id,
      {
        channel: s.channel,
        url: s.url,
        email: s.email,
        roomId: s.room_id,
        chatId: s.chat_id,
        secret: s.secret,
      },
    ]),
  );
  await Promise.all(
    rows.map(async (delivery) => {
      const target = targets.get(delivery.subscription_id);
      // Deleted meanwhile: its deliveries went with it (on delete cascade).
      if (!target) return;
      const outcome = await send(options, target, delivery);
      await record(options, delivery, outcome).catch((error: unknown) =>
        options.logger.error('could not record a notification delivery', {
          deliveryId: delivery.id,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    }),
  );
  return rows.length;
}

/** When the next pending delivery is due (null: none is pending). */
export async function nextDueAt(db: Kysely<Database>): Promise<Date | null> {
  const row = await db
    .selectFrom('notification_deliveries')
    .select((eb) => eb.fn.min('next_attempt_at').as('due'))
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return row?.due ? new Date(row.due) : null;
}

/** How long finished deliveries stay in the delivery log. */
export const DELIVERY_LOG_KEEP_MS = 30 * 24 * 60 * 60_000;

/** Removes delivered and failed deliveries older than `DELIVERY_LOG_KEEP_MS`. */
export async function pruneDeliveryLog(db: Kysely<Database>, now = new Date()): Promise<number> {
  const result = await db
    .deleteFrom('notification_deliveries')
    .where('status', '<>', 'pending')
    .where('created_at', '<', new Date(now.getTime() - DELIVERY_LOG_KEEP_MS))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
