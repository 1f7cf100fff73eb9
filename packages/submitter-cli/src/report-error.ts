import { isFarmError, type ValidationIssue } from '@farm/core';
import { isCliExit } from './exit-codes';

/**
 * What `farm` prints on stderr for an error: one line `farm: <message>` (plus one line per
 * problem when the manager listed several), and with `verbose` the code, details and cause.
 */
export function formatError(error: unknown, verbose: boolean): string {
  const lines: string[] = [];
  if (isCliExit(error)) {
    lines.push(`farm: ${error.message}`);
    if (verbose && error.details !== undefined) lines.push(`  details: ${json(error.details)}`);
    return lines.join('\n') + '\n';
  }
  if (isFarmError(error)) {
    lines.push(`farm: ${explain(error.code, error.message, error.details)}`);
    lines.push(...error.issues.map((issue) => `  - ${formatIssue(issue)}`));
    if (verbose) {
      lines.push(`  code: ${error.code}`);
      if (error.details !== undefined) lines.push(`  details: ${json(error.details)}`);
      const cause = (error as { cause?: unknown }).cause;
      if (cause !== undefined) lines.push(`  cause: ${describe(cause)}`);
    }
    return lines.join('\n') + '\n';
  }
  lines.push(`farm: ${error instanceof Error ? error.message : String(error)}`);
  if (verbose && error instanceof Error && error.stack) lines.push(error.stack);
  return lines.join('\n') + '\n';
}

/** `frames: must be a whole number, got "x"` (the path left out when empty). */
export function formatIssue(issue: ValidationIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

function explain(code: string, message: string, details: unknown): string {
  switch (code) {
    case 'unauthenticated':
      return `not authenticated: ${message} (run "farm login", or check FARM_TOKEN / --token)`;
    case 'forbidden':
      return `not allowed: ${message}`;
    case 'invalid_transition': {
      const allowed = (details as { allowedActions?: unknown } | undefined)?.allowedActions;
      if (Array.isArray(allowed) && !message.includes('allowed')) {
        const list = allowed.length > 0 ? allowed.join(', ') : 'none';
        return `${message} (allowed now: ${list})`;
      }
      return message;
    }
    default:
      return message;
  }
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: unknown }).cause;
    return inner === undefined ? cause.message : `${cause.message} (${describe(inner)})`;
  }
  return json(cause);
}
