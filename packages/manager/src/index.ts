export { createManager, type CreateManagerOptions, type RunningManager } from './create-manager';
export { resolveConfig, type ResolvedConfig, type ResolveConfigOptions } from './config';
