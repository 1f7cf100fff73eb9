import type { ApiErrorBody } from './api-types';

/** One problem with a field, as the manager reports it in `details.issues`. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** A failed API call: the manager's `{code, message, details}` body and the HTTP status. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;

  constructor(status: number, body: Partial<ApiErrorBody> | undefined, fallback: string) {
    super(body?.message ?? fallback);
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.code ?? (status === 0 ? 'network' : `http_${status}`);
    this.details = body?.details;
  }

  /** The validation issues of a `validation_failed` answer (empty otherwise). */
  get issues(): FieldIssue[] {
    const issues = (this.details as { issues?: unknown } | undefined)?.issues;
    return Array.isArray(issues) ? (issues as FieldIssue[]) : [];
  }
}

/** One clear line for any error: the manager's message, or what went wrong on the way. */
export function errorLine(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'network') return `Cannot reach the manager: ${error.message}`;
    const issues = error.issues;
    const first = issues[0];
    const extra = first
      ? ` (${first.path}: ${first.message}${issues.length > 1 ? ', ...' : ''})`
      : '';
    return `${error.message}${extra}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
