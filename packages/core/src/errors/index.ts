export * from './error-codes';
export * from './farm-error';
