import { sql, type Kysely } from 'kysely';

// Issue 7: web sessions and the audit log. A session row keeps only the sha256 of the cookie's
// secret (like API tokens), so a stolen database does not yield usable sessions.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table sessions (
      id uuid primary key default gen_random_uuid(),
      secret_hash text not null unique,
      user_id uuid not null references users (id) on delete cascade,
      csrf_token text not null,
      address text not null default '',
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      last_seen_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index sessions_user_idx on sessions (user_id)`.execute(db);
  await sql`create index sessions_expires_idx on sessions (expires_at)`.execute(db);

  await sql`
    create table audit_log (
      id bigserial primary key,
      at timestamptz not null default now(),
      actor_id uuid references users (id) on delete set null,
      actor_name text not null default '',
      action text not null,
      target jsonb not null default '{}',
      status integer not null default 0,
      address text not null default '',
      details jsonb not null default '{}'
    )`.execute(db);
  await sql`create index audit_log_at_idx on audit_log (id desc)`.execute(db);
  await sql`create index audit_log_action_idx on audit_log (action, id desc)`.execute(db);
  await sql`create index audit_log_actor_idx on audit_log (actor_name, id desc)`.execute(db);
}
