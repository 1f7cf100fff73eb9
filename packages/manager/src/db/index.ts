export * from './database';
export * from './migrate';
export * from './sqlstate';
export { MIGRATIONS } from './migrations';
export { PGliteDialect } from './pglite-dialect';
export { redactDatabaseUrl } from './db-logger';
export { APPLICATION_NAME, LISTENER_APPLICATION_NAME } from './open-postgres';
