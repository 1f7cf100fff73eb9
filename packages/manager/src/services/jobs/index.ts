export * from './submit-job';
export * from './job-actions';
export * from './task-actions';
export * from './list-jobs';
export * from './job-tasks';
export * from './get-task';
export * from './task-log';
export * from './job-blocklist';
