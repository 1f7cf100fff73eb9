// Readable names for the API's types. Every component schema has an alias (generated into
// schema-types.ts so none is forgotten): `Job`, `Task`, `TaskSummary`, `Worker`, `WorkerSummary`,
// `AssignedTask`, `TaskUpdate`, `LiveEvent`, `WorkerSocketRequest`, ... A schema whose name another
// core module already exports is aliased with an `Api` prefix (`ApiSubmittedJob`,
// `ApiJobTypeInfo`, `ApiJobStatus`, ...; the list is in scripts/generate.js), so core's index can
// `export *` both. The `Error` schema is `ApiErrorBody`; `ErrorCode` and `ValidationIssue` come
// from core's errors module.
export type { paths, components, operations } from '../generated/openapi-types';
export type * from '../generated/schema-types';
export type {
  OperationAuth,
  OperationId,
  OperationRole,
  OperationScope,
  OperationSpec,
  WorkerSocketOperation,
} from '../generated/operations';
