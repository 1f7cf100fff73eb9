// The rules the web app shares with the manager, taken from core's *source* rather than its
// CommonJS build: these modules are pure (no Node built-ins, no ajv), so they bundle for the
// browser as they are, and a change in core reaches the UI without anyone copying a table by hand.
// A relative import needs no alias in Vite, tsc or jest (docs/decisions/0005-web-framework.md).
export * from '../../core/src/status/index';
export { topicKey, topicKeysForEvent } from '../../core/src/live/live-topics';
export { projectRoleRank, mayAccessJobWithRole } from '../../core/src/access/project-roles';
export {
  validateJobSettings,
  checkSettingValue,
} from '../../core/src/job-types/validate-job-settings';
export type { ValidationIssue } from '../../core/src/errors/farm-error';
