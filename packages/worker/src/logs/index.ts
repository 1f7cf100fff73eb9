export * from './log-batcher';
