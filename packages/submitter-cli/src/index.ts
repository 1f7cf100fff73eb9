export { createProgram, run, main, type CliIo } from './cli';
export { EXIT_CODES, type ExitCode } from './exit-codes';
export { configFilePath, type StoredLogin } from './config-store';
