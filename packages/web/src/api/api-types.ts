import type { components, paths } from '../../../core/src/generated/openapi-types';

export type { paths };

/** A schema of the API document by name, e.g. `Schema<'Job'>`. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];

export type Job = Schema<'Job'>;
export type JobLite = Schema<'JobLite'>;
export type JobAction = Schema<'JobAction'>;
export type JobStatus = Schema<'JobStatus'>;
export type JobsSummary = Schema<'JobsSummary'>;
export type JobTypeInfo = Schema<'JobTypeInfo'>;
export type JobSetting = Schema<'JobSetting'>;
export type Task = Schema<'Task'>;
export type TaskSummary = Schema<'TaskSummary'>;
export type TaskStatus = Schema<'TaskStatus'>;
export type TaskCompactList = Schema<'TaskCompactList'>;
export type TaskCounts = Schema<'TaskCounts'>;
export type Worker = Schema<'Worker'>;
export type WorkerSummary = Schema<'WorkerSummary'>;
export type WorkerStatus = Schema<'WorkerStatus'>;
export type WorkerStatusRequest = Schema<'WorkerStatusRequest'>;
export type HostStats = Schema<'HostStats'>;
export type SleepSchedule = Schema<'SleepSchedule'>;
export type DayOfWeek = Schema<'DayOfWeek'>;
export type LastRenderedInfo = Schema<'LastRenderedInfo'>;
export type BlocklistEntry = Schema<'BlocklistEntry'>;
export type LiveEvent = Schema<'LiveEvent'>;
export type SubscriptionTopic = Schema<'SubscriptionTopic'>;
export type Variables = Schema<'Variables'>;
export type CurrentUser = Schema<'CurrentUser'>;
export type ApiErrorBody = Schema<'Error'>;
export type SubmittedJob = Schema<'SubmittedJob'>;
