export * from './live-topics';
