import path from 'node:path';

/** Where the file store keeps its files under the storage folder. */
export interface FileStoreLayout {
  /** `<storage>/file-store/blobs`: one read-only file per stored blob. */
  readonly blobsDir: string;
  /** `<storage>/file-store/uploads`: partial uploads, `<sha256>-<size>.part`. */
  readonly uploadsDir: string;
  /** `<storage>/checkouts`: the job folders, the value of the `{checkouts}` variable. */
  readonly checkoutsDir: string;
  blobPath(sha256: string, size: number): string;
  partPath(sha256: string, size: number): string;
  checkoutPath(name: string): string;
}

/** The name of the variable jobs reach checkouts through. */
export const CHECKOUTS_VARIABLE = 'checkouts';

/**
 * The file store's folders under `storageDir`. Blobs are fanned out by the first two pairs of hex
 * digits so no folder holds more than a few thousand entries.
 */
export function createFileStoreLayout(storageDir: string): FileStoreLayout {
  const root = path.join(storageDir, 'file-store');
  const blobsDir = path.join(root, 'blobs');
  const uploadsDir = path.join(root, 'uploads');
  const checkoutsDir = path.join(storageDir, 'checkouts');
  return {
    blobsDir,
    uploadsDir,
    checkoutsDir,
    blobPath: (sha256, size) =>
      path.join(blobsDir, sha256.slice(0, 2), sha256.slice(2, 4), `${sha256}-${size}`),
    partPath: (sha256, size) => path.join(uploadsDir, `${sha256}-${size}.part`),
    checkoutPath: (name) => path.join(checkoutsDir, name),
  };
}

/**
 * The config's variables plus `checkouts` (the checkouts folder, on every platform) unless the
 * config defines it: workers that mount the storage elsewhere get their own value from the config.
 */
export function withCheckoutsVariable<T extends object>(
  variables: T,
  layout: Pick<FileStoreLayout, 'checkoutsDir'>,
): T {
  return {
    [CHECKOUTS_VARIABLE]: { values: [{ platform: 'all', value: layout.checkoutsDir }] },
    ...variables,
  };
}
