export * from './last-rendered';
export * from './make-thumbnails';
export * from './preview-queue';
export * from './preview-service';
