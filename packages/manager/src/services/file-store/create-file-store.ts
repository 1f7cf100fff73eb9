import type { Checkout, CheckoutRequest, FileRef, MissingFile } from '@farm/core';
import type { ServiceContext } from '../service-context';
import { createCheckout, deleteCheckout, getCheckout } from './checkouts';
import { collectFileGarbage, type FileGarbageReport } from './collect-file-garbage';
import type { FileStoreDeps } from './file-store-deps';
import { createFileStoreLayout, type FileStoreLayout } from './file-store-layout';
import { findMissingFiles } from './find-missing-files';
import { receiveUpload, type UploadInput, type UploadOutcome } from './receive-upload';

/** The content-addressed file store: uploads by sha256 and size, checkouts, garbage collection. */
export interface FileStore {
  readonly layout: FileStoreLayout;
  findMissing(files: readonly FileRef[]): Promise<MissingFile[]>;
  receiveUpload(input: UploadInput): Promise<UploadOutcome>;
  createCheckout(request: CheckoutRequest, createdBy: string | null): Promise<Checkout>;
  getCheckout(id: string): Promise<Checkout>;
  deleteCheckout(id: string, by: { userId: string; isAdmin: boolean }): Promise<void>;
  collectGarbage(now?: Date): Promise<FileGarbageReport>;
}

/** The file store of a manager, in `<storage_dir>/file-store` and `<storage_dir>/checkouts`. */
export function createFileStore(ctx: Pick<ServiceContext, 'db' | 'config' | 'logger'>): FileStore {
  const deps: FileStoreDeps = {
    db: ctx.db,
    config: ctx.config,
    logger: ctx.logger,
    layout: createFileStoreLayout(ctx.config.storageDir),
    uploading: new Set(),
  };
  return {
    layout: deps.layout,
    findMissing: (files) => findMissingFiles(deps, files),
    receiveUpload: (input) => receiveUpload(deps, input),
    createCheckout: (request, createdBy) => createCheckout(deps, request, createdBy),
    getCheckout: (id) => getCheckout(deps, id),
    deleteCheckout: (id, by) => deleteCheckout(deps, id, by),
    collectGarbage: (now) => collectFileGarbage(deps, now),
  };
}
