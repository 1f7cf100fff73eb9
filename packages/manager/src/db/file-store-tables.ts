import type { Generated } from 'kysely';
import type { CreatedAt } from './tables';

// The file-store tables (migration 0004), kept apart from tables.ts so that file stays small.

export interface FileBlobsTable {
  sha256: string;
  size: number;
  stored_at: CreatedAt;
  /** Uploaded, asked about or checked out; garbage collection counts its age from here. */
  last_used_at: CreatedAt;
}

export interface FileCheckoutsTable {
  id: Generated<string>;
  name: string;
  created_by: string | null;
  file_count: number;
  total_bytes: number;
  created_at: CreatedAt;
}

export interface FileCheckoutFilesTable {
  checkout_id: string;
  path: string;
  sha256: string;
  size: number;
}
