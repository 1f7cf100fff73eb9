export * from './commands';
export * from './process';
export * from './logs';
