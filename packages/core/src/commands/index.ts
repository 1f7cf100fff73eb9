export * from './command-types';
export * from './command-schemas';
export * from './validate-command';
