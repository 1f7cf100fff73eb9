import type { ColumnType, Generated } from 'kysely';
import type { CreatedAt, JsonWithDefault, NullableTimestamp, Json } from './tables';

// The notification tables (migration 0005), kept apart from tables.ts so that file stays small.

export const NOTIFICATION_CHANNELS = [
  'webhook',
  'slack',
  'discord',
  'matrix',
  'rocketchat',
  'telegram',
  'email',
] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

export type NotificationDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface NotificationSubscriptionsTable {
  id: Generated<string>;
  user_id: string;
  /** null: every project the user may see. */
  project_id: string | null;
  name: Generated<string>;
  channel: NotificationChannel;
  events: ColumnType<string[], readonly string[], readonly string[]>;
  only_my_jobs: Generated<boolean>;
  enabled: Generated<boolean>;
  /** The webhook URL, or the Matrix homeserver / Telegram API base. */
  url: string | null;
  email: string | null;
  room_id: string | null;
  chat_id: string | null;
  /** The webhook signing secret, or the Matrix access token / Telegram bot token. Never returned. */
  secret: string | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

export interface NotificationEventsTable {
  id: Generated<number>;
  kind: string;
  job_id: string | null;
  task_id: string | null;
  worker_id: string | null;
  payload: JsonWithDefault<Record<string, unknown>>;
  created_at: CreatedAt;
}

export interface NotificationDeliveriesTable {
  id: Generated<string>;
  subscription_id: string;
  kind: string;
  message: Json<Record<string, unknown>>;
  is_test: Generated<boolean>;
  status: ColumnType<
    NotificationDeliveryStatus,
    NotificationDeliveryStatus | undefined,
    NotificationDeliveryStatus
  >;
  attempts: Generated<number>;
  attempt_log: JsonWithDefault<Record<string, unknown>[]>;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: CreatedAt;
  locked_until: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  delivered_at: NullableTimestamp;
}
