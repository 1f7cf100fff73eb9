export * from './api-token-scopes';
export * from './authenticate-user-token';
export * from './ensure-first-admin';
export * from './token-secret';
