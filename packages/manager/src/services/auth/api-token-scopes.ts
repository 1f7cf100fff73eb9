/** Every scope a personal API token can carry; admins implicitly hold all of them. */
export const API_TOKEN_SCOPES = [
  'jobs:read',
  'jobs:write',
  'workers:read',
  'workers:manage',
  'metrics:read',
  'admin',
] as const;

export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];
