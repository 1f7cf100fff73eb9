import createClient, { type Client } from 'openapi-fetch';
import { ERROR_CODE_HTTP_STATUS, ERROR_CODES, FarmError, type ErrorCode } from '../errors';
import type { operations, paths } from '../generated/openapi-types';
import type {
  ApiJobAction as JobAction,
  ApiJobTypeInfo as JobTypeInfo,
  ApiSubmittedJob as SubmittedJob,
  ApiTaskAction as TaskAction,
  ApiWorkerStatus as WorkerStatus,
  ApiWorkerStatusRequest as WorkerStatusRequest,
  Job,
  JobPage,
  NewSchedule,
  Schedule,
  ScheduleRun,
  ScheduleUpdate,
  Task,
  TaskSummaryPage,
  Version,
  Worker,
  WorkerSummary,
} from '../generated/schema-types';

/** How to reach a manager. */
export interface FarmClientOptions {
  /** The manager's base URL, e.g. `http://localhost:8080`. */
  url: string;
  /** A user API token or a worker token; sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** A fetch implementation (default: the global fetch). */
  fetch?: (input: Request) => Promise<Response>;
}

export type ListJobsQuery = NonNullable<operations['listJobs']['parameters']['query']>;
export type ListJobTasksQuery = NonNullable<operations['listJobTasks']['parameters']['query']>;

/** Which part of a task log to fetch; nothing means the whole log. */
export interface TaskLogOptions {
  tail?: number;
  offset?: number;
  length?: number;
}

/** A piece of a task log: its text, the whole log's size and where the text starts. */
export interface TaskLogChunk {
  text: string;
  size: number;
  offset: number;
}

/** Convenience calls that return the data or throw a FarmError with the manager's error code. */
export interface FarmClientMethods {
  version(): Promise<Version>;
  listJobTypes(): Promise<JobTypeInfo[]>;
  getJobType(name: string): Promise<JobTypeInfo>;
  submitJob(job: SubmittedJob): Promise<Job>;
  listJobs(query?: ListJobsQuery): Promise<JobPage>;
  getJob(id: string): Promise<Job>;
  jobAction(
    id: string,
    action: JobAction,
    opts?: { priority?: number; reason?: string },
  ): Promise<Job>;
  listJobTasks(id: string, query?: ListJobTasksQuery): Promise<TaskSummaryPage>;
  getTask(id: string): Promise<Task>;
  taskAction(id: string, action: TaskAction, opts?: { reason?: string }): Promise<Task>;
  getTaskLog(id: string, opts?: TaskLogOptions): Promise<TaskLogChunk>;
  listWorkers(query?: { status?: WorkerStatus[] }): Promise<WorkerSummary[]>;
  getWorker(id: string): Promise<Worker>;
  requestWorkerStatus(id: string, status: WorkerStatusRequest, lazy?: boolean): Promise<Worker>;
  listSchedules(): Promise<Schedule[]>;
  createSchedule(schedule: NewSchedule): Promise<Schedule>;
  /** Changes a schedule; `{ enabled: false }` disables it. */
  updateSchedule(id: string, change: ScheduleUpdate): Promise<Schedule>;
  deleteSchedule(id: string): Promise<void>;
  /** The schedule's latest runs, newest first. */
  listScheduleRuns(id: string, limit?: number): Promise<ScheduleRun[]>;
}

/** The openapi-fetch client (`GET`, `POST`, ... typed by the API's paths) plus the convenience calls. */
export type FarmClient = Client<paths> & FarmClientMethods;

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

const KNOWN_CODES = new Set<string>(ERROR_CODES);

/** Rebuilds the manager's error body as a FarmError; anything else is named by its HTTP status. */
function errorFromResponse(error: unknown, response: Response): FarmError {
  if (typeof error === 'object' && error !== null) {
    const body = error as { code?: unknown; message?: unknown; details?: unknown };
    if (
      typeof body.code === 'string' &&
      KNOWN_CODES.has(body.code) &&
      typeof body.message === 'string'
    ) {
      return new FarmError(body.code as ErrorCode, body.message, { details: body.details });
    }
  }
  const code = codeForStatus(response.status);
  const text = typeof error === 'string' && error.trim() ? `: ${error.trim().slice(0, 200)}` : '';
  return new FarmError(
    code,
    `the manager answered HTTP ${response.status} ${response.statusText}${text}`,
  );
}

function codeForStatus(status: number): ErrorCode {
  if (status === 502 || status === 504) return 'unavailable';
  const exact = ERROR_CODES.find((code) => ERROR_CODE_HTTP_STATUS[code] === status);
  if (exact) return exact;
  return status >= 500 ? 'internal' : 'bad_request';
}

async function unwrap<T>(call: Promise<FetchResult<T>> | FetchResult<T>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw errorFromResponse(error, response);
  return data as T;
}

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  cause?: ErrorLike;
}

function describeCause(error: unknown): string {
  // Duck-typed: fetch's errors may come from another realm (jest, workers), where instanceof fails.
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, cause } = error as ErrorLike;
  const text = typeof message === 'string' ? message : JSON.stringify(error);
  // Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND) is in its cause.
  const reason =
    typeof cause?.code === 'string'
      ? cause.code
      : typeof cause?.message === 'string'
        ? cause.message
        : '';
  return reason ? `${text} (${reason})` : text;
}

/**
 * A typed client for a Farm manager. Use the convenience calls, which throw a FarmError carrying
 * the manager's error code (`unavailable` when the manager cannot be reached), or the raw
 * openapi-fetch calls (`client.GET('/api/v1/jobs/{jobId}', { params: { path: { jobId } } })`).
 *
 * @example
 * const farm = createFarmClient({ url: 'http://localhost:8080', token: process.env.FARM_TOKEN });
 * const job = await farm.submitJob({ name: 'hello', type: 'echo-sleep-test', settings: { message: 'hi' } });
 */
export function createFarmClient(options: FarmClientOptions): FarmClient {
  const baseUrl = options.url.replace(/\/+$/, '');
  const api = createClient<paths>({
    baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.token ? { headers: { Authorization: `Bearer ${options.token}` } } : {}),
  });
  api.use({
    onError({ error }) {
      return new FarmError(
        'unavailable',
        `cannot reach the manager at ${baseUrl}: ${describeCause(error)}`,
        {
          cause: error,
        },
      );
    },
  });

  const methods: FarmClientMethods = {
    version: () => unwrap(api.GET('/api/v1/version')),
    listJobTypes: async () => (await unwrap(api.GET('/api/v1/job-types'))).jobTypes,
    getJobType: (name) =>
      unwrap(api.GET('/api/v1/job-types/{name}', { params: { path: { name } } })),
    submitJob: (job) => unwrap(api.POST('/api/v1/jobs', { body: job })),
    listJobs: (query) => unwrap(api.GET('/api/v1/jobs', { params: { query } })),
    getJob: (jobId) => unwrap(api.GET('/api/v1/jobs/{jobId}', { params: { path: { jobId } } })),
    jobAction: (jobId, action, opts) =>
      unwrap(
        api.POST('/api/v1/jobs/{jobId}/actions', {
          params: { path: { jobId } },
          body: { action, ...opts },
        }),
      ),
    listJobTasks: (jobId, query) =>
      unwrap(api.GET('/api/v1/jobs/{jobId}/tasks', { params: { path: { jobId }, query } })),
    getTask: (taskId) =>
      unwrap(api.GET('/api/v1/tasks/{taskId}', { params: { path: { taskId } } })),
    taskAction: (taskId, action, opts) =>
      unwrap(
        api.POST('/api/v1/tasks/{taskId}/actions', {
          params: { path: { taskId } },
          body: { action, ...opts },
        }),
      ),
    getTaskLog: async (taskId, opts) => {
      const result = await api.GET('/api/v1/tasks/{taskId}/log', {
        params: { path: { taskId }, query: opts },
        parseAs: 'text',
      });
      const text = (await unwrap(result as FetchResult<string>)) ?? '';
      // TextEncoder, not Buffer: the web app uses this client too.
      const bytes = new TextEncoder().encode(text).length;
      const size = Number(result.response.headers.get('X-Log-Size') ?? bytes);
      const offset = Number(
        result.response.headers.get('X-Log-Offset') ?? Math.max(0, size - bytes),
      );
      return { text, size, offset };
    },
    listWorkers: async (query) =>
      (await unwrap(api.GET('/api/v1/workers', { params: { query } }))).items,
    getWorker: (workerId) =>
      unwrap(api.GET('/api/v1/workers/{workerId}', { params: { path: { workerId } } })),
    requestWorkerStatus: (workerId, status, lazy = false) =>
      unwrap(
        api.POST('/api/v1/workers/{workerId}/status-request', {
          params: { path: { workerId } },
          body: { status, lazy },
        }),
      ),
    listSchedules: async () => (await unwrap(api.GET('/api/v1/schedules'))).items,
    createSchedule: (schedule) => unwrap(api.POST('/api/v1/schedules', { body: schedule })),
    updateSchedule: (scheduleId, change) =>
      unwrap(
        api.PATCH('/api/v1/schedules/{scheduleId}', {
          params: { path: { scheduleId } },
          body: change,
        }),
      ),
    deleteSchedule: async (scheduleId) => {
      await unwrap(
        api.DELETE('/api/v1/schedules/{scheduleId}', { params: { path: { scheduleId } } }),
      );
    },
    listScheduleRuns: async (scheduleId, limit) =>
      (
        await unwrap(
          api.GET('/api/v1/schedules/{scheduleId}/runs', {
            params: { path: { scheduleId }, query: limit === undefined ? {} : { limit } },
          }),
        )
      ).items,
  };
  return Object.assign(api, methods);
}
