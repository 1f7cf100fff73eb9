export * from './line-splitter';
export * from './quote-command-line';
export * from './run-process';
export * from './process-group';
