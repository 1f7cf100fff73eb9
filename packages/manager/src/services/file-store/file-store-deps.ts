import type { ServiceContext } from '../service-context';
import type { FileStoreLayout } from './file-store-layout';

/** What the file-store functions need: the database, the config, a logger and the folders. */
export interface FileStoreDeps extends Pick<ServiceContext, 'db' | 'config' | 'logger'> {
  layout: FileStoreLayout;
  /** Blobs being uploaded by this process (`sha256-size`), so two uploads never share a part. */
  uploading: Set<string>;
}

/** `sha256-size`: a blob's key in maps and file names. */
export function blobKey(sha256: string, size: number): string {
  return `${sha256}-${size}`;
}
