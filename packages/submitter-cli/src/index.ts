export { createProgram, run, type CliIo } from './cli';
