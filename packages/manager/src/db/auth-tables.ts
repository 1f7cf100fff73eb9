import type { Generated } from 'kysely';
import type { CreatedAt, JsonWithDefault } from './tables';

/** A web session (migration 0003); the cookie holds the secret, the row only its sha256. */
export interface SessionsTable {
  id: Generated<string>;
  secret_hash: string;
  user_id: string;
  /** The double-submit token a cookie-authenticated unsafe request must echo in `X-Farm-CSRF`. */
  csrf_token: string;
  address: Generated<string>;
  created_at: CreatedAt;
  expires_at: CreatedAt;
  last_seen_at: CreatedAt;
}

/** One audited action (migration 0003): who called which operation on what, and the answer. */
export interface AuditLogTable {
  id: Generated<number>;
  at: CreatedAt;
  actor_id: string | null;
  actor_name: Generated<string>;
  action: string;
  target: JsonWithDefault<Record<string, string>>;
  status: Generated<number>;
  address: Generated<string>;
  details: JsonWithDefault<Record<string, unknown>>;
}
