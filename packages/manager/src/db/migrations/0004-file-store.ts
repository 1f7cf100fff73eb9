import { sql, type Kysely, type RawBuilder } from 'kysely';

// The file store (issue 10). Blobs are named by sha256 and size; the files themselves live under
// the storage folder, these rows say which exist and which checkouts use them. The foreign key
// from a checkout's files to its blobs (no cascade) is what keeps garbage collection from deleting
// a blob that a checkout being made at the same moment refers to. One statement per entry (PGlite).

const statements: RawBuilder<unknown>[] = [
  sql`
    create table file_blobs (
      sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
      size bigint not null check (size >= 0),
      stored_at timestamptz not null default now(),
      last_used_at timestamptz not null default now(),
      primary key (sha256, size)
    )`,
  sql`create index file_blobs_last_used_idx on file_blobs (last_used_at)`,
  sql`
    create table file_checkouts (
      id uuid primary key default gen_random_uuid(),
      name text not null unique,
      created_by uuid references users (id) on delete set null,
      file_count integer not null,
      total_bytes bigint not null,
      created_at timestamptz not null default now()
    )`,
  sql`create index file_checkouts_created_idx on file_checkouts (created_at)`,
  sql`
    create table file_checkout_files (
      checkout_id uuid not null references file_checkouts (id) on delete cascade,
      path text not null,
      sha256 text not null,
      size bigint not null,
      primary key (checkout_id, path),
      foreign key (sha256, size) references file_blobs (sha256, size)
    )`,
  sql`create index file_checkout_files_blob_idx on file_checkout_files (sha256, size)`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}
