import type { OperationDefinition } from '../http/define-operation';

/**
 * Where route modules put their operations; a plain array works:
 * `const ops: OperationDefinition[] = []; registerJobRoutes(ops, ctx); createApp({ operations: ops })`.
 */
export interface OperationRegistry {
  push(...definitions: OperationDefinition[]): unknown;
}
