import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import {
  FarmError,
  validationError,
  type NotificationSubscription,
  type NotificationSubscriptionInput,
  type ValidationIssue,
} from '@farm/core';
import type { NotificationSubscriptionsTable } from '../../db/notification-tables';
import type { ServiceContext } from '../service-context';

export type SubscriptionRow = Selectable<NotificationSubscriptionsTable>;
type SubscriptionUpdate = Partial<NotificationSubscriptionInput> & { rotateSecret?: boolean };

/** What the subscription services need beyond the service context. */
export interface SubscriptionHooks {
  /** Called after a subscription changed, so this replica's capture filter is current at once. */
  changed(): void;
}

function notFound(id: string): FarmError {
  return new FarmError('not_found', `no notification subscription ${id}`, {
    details: { subscriptionId: id },
  });
}

/** A new webhook signing secret: 32 random bytes, base64url. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** Where it goes, without anything secret: a chat webhook's URL path is its credential. */
function describeTarget(row: SubscriptionRow): string {
  const origin = (url: string | null) => {
    try {
      return url ? new URL(url).origin : '';
    } catch {
      return '';
    }
  };
  switch (row.channel) {
    case 'webhook':
      return row.url ?? '';
    case 'email':
      return row.email ?? '';
    case 'matrix':
      return `${row.room_id ?? ''} on ${origin(row.url)}`;
    case 'telegram':
      return `chat ${row.chat_id ?? ''}`;
    default:
      return `${origin(row.url)}/…`;
  }
}

/** The API form of a subscription; `secret` only when one was just made. */
export function toApiSubscription(row: SubscriptionRow, secret?: string): NotificationSubscription {
  return {
    id: row.id,
    name: row.name,
    channel: row.channel,
    events: row.events as NotificationSubscription['events'],
    projectId: row.project_id,
    onlyMyJobs: row.only_my_jobs,
    enabled: row.enabled,
    target: describeTarget(row),
    hasSecret: row.secret !== null,
    ...(secret === undefined ? {} : { secret }),
    created: row.created_at.toISOString(),
    updated: row.updated_at.toISOString(),
  };
}

interface TargetFields {
  channel: string;
  url: string | null;
  email: string | null;
  room_id: string | null;
  chat_id: string | null;
  secret: string | null;
}

/** Every problem of a channel's target at once (which fields it needs, URL schemes). */
function checkTarget(ctx: ServiceContext, fields: TargetFields, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const need = (value: string | null, field: string) => {
    if (value === null || value === '') {
      issues.push({ path: `${path}.${field}`, message: `is required for ${fields.channel}` });
    }
  };
  if (fields.channel === 'email') {
    need(fields.email, 'email');
    if (!ctx.config.smtpUrl) {
      issues.push({
        path: `${path}.channel`,
        message: 'e-mail needs smtp_url in the manager configuration',
      });
    }
  } else if (fields.channel !== 'telegram') {
    need(fields.url, 'url');
  }
  if (fields.channel === 'matrix') {
    need(fields.room_id, 'roomId');
    need(fields.secret, 'token');
  }
  if (fields.channel === 'telegram') {
    need(fields.chat_id, 'chatId');
    need(fields.secret, 'token');
  }
  if (fields.url !== null && !/^https?:\/\//i.test(fields.url)) {
    issues.push({ path: `${path}.url`, message: 'must be an http or https URL' });
  }
  return issues;
}

async function checkProject(ctx: ServiceContext, projectId: string | null | undefined) {
  if (projectId === null || projectId === undefined) return;
  const project = await ctx.db
    .selectFrom('projects')
    .select('id')
    .where('id', '=', projectId)
    .executeTakeFirst();
  if (!project) {
    throw new FarmError('not_found', `no project ${projectId}`, { details: { projectId } });
  }
}

async function findOwned(ctx: ServiceContext, userId: string, id: string) {
  const row = await ctx.db
    .selectFrom('notification_subscriptions')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!row) throw notFound(id);
  return row;
}

/** The user's subscriptions, newest first. */
export async function listSubscriptions(
  ctx: ServiceContext,
  userId: string,
): Promise<{ items: NotificationSubscription[] }> {
  const rows = await ctx.db
    .selectFrom('notification_subscriptions')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return { items: rows.map((row) => toApiSubscription(row)) };
}

/** One of the user's subscriptions; another user's is `not_found`. */
export async function getSubscription(
  ctx: ServiceContext,
  userId: string,
  id: string,
): Promise<NotificationSubscription> {
  return toApiSubscription(await findOwned(ctx, userId, id));
}

/** Creates a subscription; a webhook gets a signing secret, returned in this answer only. */
export async function createSubscription(
  ctx: ServiceContext & SubscriptionHooks,
  userId: string,
  input: NotificationSubscriptionInput,
): Promise<NotificationSubscription> {
  const secret = input.channel === 'webhook' ? newSecret() : (input.token ?? null);
  const fields: TargetFields = {
    channel: input.channel,
    url: input.url ?? null,
    email: input.email ?? null,
    room_id: input.roomId ?? null,
    chat_id: input.chatId ?? null,
    secret,
  };
  const issues = checkTarget(ctx, fields, 'body');
  if (input.channel === 'webhook' && input.token !== undefined) {
    issues.push({ path: 'body.token', message: 'a webhook`s secret is made by the manager' });
  }
  if (issues.length > 0) throw validationError('the subscription cannot deliver', issues);
  await checkProject(ctx, input.projectId);
  const row = await ctx.db
    .insertInto('notification_subscriptions')
    .values({
      user_id: userId,
      project_id: input.projectId ?? null,
      name: input.name ?? '',
      channel: input.channel,
      events: input.events,
      only_my_jobs: input.onlyMyJobs ?? false,
      enabled: input.enabled ?? true,
      url: fields.url,
      email: fields.email,
      room_id: fields.room_id,
      chat_id: fields.chat_id,
      secret,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  ctx.changed();
  return toApiSubscription(row, input.channel === 'webhook' ? (secret as string) : undefined);
}

/** Changes the given fields; `rotateSecret` gives a webhook a new secret (returned once). */
export async function updateSubscription(
  ctx: ServiceContext & SubscriptionHooks,
  userId: string,
  id: string,
  input: SubscriptionUpdate,
): Promise<NotificationSubscription> {
  const before = await findOwned(ctx, userId, id);
  const rotated = input.rotateSecret === true && before.channel === 'webhook' ? newSecret() : null;
  const fields: TargetFields = {
    channel: before.channel,
    url: input.url ?? before.url,
    email: input.email ?? before.email,
    room_id: input.roomId ?? before.room_id,
    chat_id: input.chatId ?? before.chat_id,
    secret:
      rotated ?? (before.channel === 'webhook' ? before.secret : (input.token ?? before.secret)),
  };
  const issues = checkTarget(ctx, fields, 'body');
  if (input.rotateSecret === true && before.channel !== 'webhook') {
    issues.push({ path: 'body.rotateSecret', message: 'only webhooks have a signing secret' });
  }
  if (before.channel === 'webhook' && input.token !== undefined) {
    issues.push({ path: 'body.token', message: 'a webhook`s secret is made by the manager' });
  }
  if (issues.length > 0) throw validationError('the subscription cannot deliver', issues);
  await checkProject(ctx, input.projectId);
  const row = await ctx.db
    .updateTable('notification_subscriptions')
    .set({
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.events === undefined ? {} : { events: input.events }),
      ...(input.projectId === undefined ? {} : { project_id: input.projectId }),
      ...(input.onlyMyJobs === undefined ? {} : { only_my_jobs: input.onlyMyJobs }),
      ...(input.enabled === undefined ? {} : { enabled: input.enabled }),
      url: fields.url,
      email: fields.email,
      room_id: fields.room_id,
      chat_id: fields.chat_id,
      secret: fields.secret,
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw notFound(id);
  ctx.changed();
  return toApiSubscription(row, rotated ?? undefined);
}

/** Deletes a subscription and its delivery log. */
export async function deleteSubscription(
  ctx: ServiceContext & SubscriptionHooks,
  userId: string,
  id: string,
): Promise<void> {
  const result = await ctx.db
    .deleteFrom('notification_subscriptions')
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw notFound(id);
  ctx.changed();
}
