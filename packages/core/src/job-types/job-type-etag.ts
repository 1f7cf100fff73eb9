import { createHash } from 'node:crypto';
import type { JobSetting } from './job-type-types';

/** JSON with object keys sorted at every level, so equal data always gives equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The etag of a job type: 32 hex characters of the sha256 of its label and settings. A change
 * of the settings changes it, so submissions made against the old form are refused; a change of
 * the compile code alone does not.
 */
export function computeJobTypeEtag(label: string, settings: readonly JobSetting[]): string {
  return createHash('sha256').update(canonicalJson({ label, settings })).digest('hex').slice(0, 32);
}
