import { FarmError, type AuditEntry, type AuditPage } from '@farm/core';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { Logger } from 'winston';

/** One audited action, as the router or the login handler reports it. */
export interface AuditRecord {
  actor: { id: string; name: string } | null;
  action: string;
  target?: Record<string, string>;
  status: number;
  address?: string;
  details?: Record<string, unknown>;
}

/** Writes an audit entry; a failure is logged, never thrown (the action itself has happened). */
export async function recordAudit(
  db: Kysely<Database>,
  logger: Logger,
  record: AuditRecord,
): Promise<void> {
  try {
    await db
      .insertInto('audit_log')
      .values({
        actor_id: record.actor?.id ?? null,
        actor_name: record.actor?.name ?? '',
        action: record.action,
        target: JSON.stringify(record.target ?? {}),
        status: record.status,
        address: record.address ?? '',
        details: JSON.stringify(record.details ?? {}),
      })
      .execute();
  } catch (error) {
    logger.warn('could not write the audit log', { action: record.action, error: String(error) });
  }
}

// Body fields worth keeping in the audit log. A whitelist, so secrets (passwords, tokens) can
// never end up there, whatever a new operation's body contains.
const AUDITED_FIELDS = [
  'action',
  'status',
  'lazy',
  'name',
  'role',
  'scopes',
  'isAdmin',
  'disabled',
  'priority',
  'type',
  'project',
  'tags',
  'reason',
  'jobIds',
  'taskIds',
];

/** The whitelisted, short fields of a request body, for `details`. */
export function auditDetails(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object') return {};
  const details: Record<string, unknown> = {};
  for (const field of AUDITED_FIELDS) {
    const value = (body as Record<string, unknown>)[field];
    if (['string', 'number', 'boolean'].includes(typeof value)) details[field] = value;
    else if (Array.isArray(value) && value.length <= 100) details[field] = value;
  }
  return details;
}

/**
 * One page of the audit log, newest first, optionally of one action or actor.
 * @throws FarmError `bad_request` for a malformed cursor
 */
export async function listAuditLog(
  db: Kysely<Database>,
  query: { action?: string; actor?: string; limit?: number; cursor?: string },
): Promise<AuditPage> {
  const limit = query.limit ?? 100;
  let select = db.selectFrom('audit_log').selectAll();
  if (query.action !== undefined) select = select.where('action', '=', query.action);
  if (query.actor !== undefined) select = select.where('actor_name', '=', query.actor);
  if (query.cursor !== undefined) {
    if (!/^\d{1,18}$/.test(query.cursor))
      throw new FarmError('bad_request', 'the cursor is malformed');
    select = select.where('id', '<', Number(query.cursor));
  }
  const rows = await select
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const items: AuditEntry[] = page.map((row) => ({
    id: String(row.id),
    at: row.at.toISOString(),
    actor: row.actor_id ? { id: row.actor_id, name: row.actor_name } : null,
    action: row.action,
    target: row.target,
    status: row.status,
    address: row.address,
    details: row.details,
  }));
  return {
    items,
    nextCursor: rows.length > limit ? String(page[page.length - 1]!.id) : null,
  };
}
