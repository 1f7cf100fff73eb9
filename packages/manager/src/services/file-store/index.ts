export * from './create-file-store';
export * from './file-store-layout';
export * from './check-checkout-paths';
export type { FileGarbageReport } from './collect-file-garbage';
export type { UploadInput, UploadOutcome } from './receive-upload';
