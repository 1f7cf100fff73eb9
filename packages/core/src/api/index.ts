// The API contract: types generated from openapi/openapi.yaml, the document itself, the operation
// table the manager routes and authorises by, validators, and the typed client.
export * from './types';
export * from './validate';
export * from './client';
export { openApiDocument } from '../generated/openapi-document';
export { OPERATIONS, SCHEMA_BUNDLE, SCHEMA_BUNDLE_ID } from '../generated/operations';
