import type { ErrorCode } from './error-codes';

/** One problem with an input, pointing at the field it concerns (a setting key, a JSON path). */
export interface ValidationIssue {
  /** Where the problem is: a setting key such as `frames`, or a JSON pointer such as `/settings/fps`. */
  path: string;
  message: string;
}

/** The JSON body of every error response: `{ code, message, details }`. */
export interface FarmErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

// A registry symbol survives jest realms and duplicated package copies, where `instanceof` fails.
const FARM_ERROR_BRAND = Symbol.for('@farm/core/FarmError');

/**
 * The one error type of Farm. `code` is stable and maps to an HTTP status
 * (`ERROR_CODE_HTTP_STATUS`); `details` carries structured data such as the list of validation
 * issues or the actions a status allows.
 *
 * @example
 * throw new FarmError('not_found', `job ${id} does not exist`);
 */
export class FarmError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, options?: { details?: unknown; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FarmError';
    this.code = code;
    if (options?.details !== undefined) this.details = options.details;
    Object.defineProperty(this, FARM_ERROR_BRAND, { value: true });
  }

  /** The validation issues carried in `details`, when there are any. */
  get issues(): ValidationIssue[] {
    const details = this.details as { issues?: unknown } | undefined;
    return Array.isArray(details?.issues) ? (details.issues as ValidationIssue[]) : [];
  }

  toJSON(): FarmErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** True for a FarmError from any copy of this package or any jest realm. */
export function isFarmError(value: unknown): value is FarmError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[FARM_ERROR_BRAND] === true
  );
}

/** A FarmError listing every validation issue at once. */
export function validationError(message: string, issues: ValidationIssue[]): FarmError {
  return new FarmError('validation_failed', message, { details: { issues } });
}

/** Normalises anything thrown into a FarmError; unknown errors become `internal`. */
export function toFarmError(value: unknown): FarmError {
  if (isFarmError(value)) return value;
  if (value instanceof Error) return new FarmError('internal', value.message, { cause: value });
  return new FarmError('internal', String(value));
}
