export * from './config-options';
export { CONFIG_SCHEMA } from './config-schema';
export * from './parse-duration';
export * from './registration-secret';
export * from './resolve-config';
export * from './write-default-config';
