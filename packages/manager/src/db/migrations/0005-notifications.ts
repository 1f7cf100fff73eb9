import { sql, type Kysely, type RawBuilder } from 'kysely';

// Notifications (issue 10). Captured events go to a durable outbox (`notification_events`); one
// replica at a time fans each out into `notification_deliveries` (SKIP LOCKED), and deliveries
// are claimed with a lease, so every notification is sent by one replica, and a replica that dies
// mid-send leaves its deliveries to another once the lease ends. One statement per entry (PGlite).

const CHANNELS = sql.raw(
  `'webhook', 'slack', 'discord', 'matrix', 'rocketchat', 'telegram', 'email'`,
);

const statements: RawBuilder<unknown>[] = [
  sql`
    create table notification_subscriptions (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null references users (id) on delete cascade,
      project_id uuid references projects (id) on delete cascade,
      name text not null default '',
      channel text not null check (channel in (${CHANNELS})),
      events text[] not null,
      only_my_jobs boolean not null default false,
      enabled boolean not null default true,
      url text,
      email text,
      room_id text,
      chat_id text,
      secret text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
  sql`create index notification_subscriptions_user_idx on notification_subscriptions (user_id)`,
  sql`
    create table notification_events (
      id bigserial primary key,
      kind text not null,
      job_id uuid,
      task_id uuid,
      worker_id uuid,
      payload jsonb not null default '{}'::jsonb,
      created_at timestamptz not null default now()
    )`,
  sql`
    create table notification_deliveries (
      id uuid primary key default gen_random_uuid(),
      subscription_id uuid not null references notification_subscriptions (id) on delete cascade,
      kind text not null,
      message jsonb not null,
      is_test boolean not null default false,
      status text not null default 'pending'
        check (status in ('pending', 'delivered', 'failed')),
      attempts integer not null default 0,
      attempt_log jsonb not null default '[]'::jsonb,
      last_status_code integer,
      last_error text,
      next_attempt_at timestamptz not null default now(),
      locked_until timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      delivered_at timestamptz
    )`,
  sql`
    create index notification_deliveries_due_idx on notification_deliveries (next_attempt_at)
      where status = 'pending'`,
  sql`
    create index notification_deliveries_subscription_idx
      on notification_deliveries (subscription_id, created_at desc, id desc)`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}
