export * from './job-type-types';
export * from './helpers';
export { canonicalJson, computeJobTypeEtag } from './job-type-etag';
export { parseJobTypeDefinition, type JobTypeDefinition } from './parse-job-type-definition';
export {
  checkSettingValue,
  validateJobSettings,
  type SettingsValidation,
} from './validate-job-settings';
export { createJobType, jobTypeNameFromFile, type CreateJobTypeOptions } from './create-job-type';
export {
  BUNDLED_JOB_TYPES_DIR,
  findJobTypeFiles,
  listJobTypes,
  loadJobType,
  loadJobTypeFile,
  type JobTypeFile,
} from './load-job-type';
export { compileJob, DEFAULT_MAX_TASKS } from './compile-job';
export { DEFAULT_SCRIPT_TIMEOUT_MS, MAX_SCRIPT_MESSAGES } from './script-sandbox';
export {
  createJobTypeRegistry,
  type JobTypeProblem,
  type JobTypeRegistry,
  type JobTypeRegistryOptions,
  type JobTypeReloadResult,
} from './job-type-registry';
