import type { JobSetting, ValidationIssue } from '@farm/core';

/** `key=value` strings split at the first `=`, with a problem for each that has none. */
export function parseAssignments(
  assignments: readonly string[],
  option: string,
): { entries: Array<[string, string]>; issues: ValidationIssue[] } {
  const entries: Array<[string, string]> = [];
  const issues: ValidationIssue[] = [];
  for (const assignment of assignments) {
    const at = assignment.indexOf('=');
    if (at <= 0) {
      issues.push({
        path: option,
        message: `expected key=value, got ${JSON.stringify(assignment)}`,
      });
      continue;
    }
    entries.push([assignment.slice(0, at).trim(), assignment.slice(at + 1)]);
  }
  return { entries, issues };
}

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

/**
 * Reads a `--set` value as the setting's declared type: `int32` a whole number, `float` any
 * number, `bool` true/false (also yes/no, on/off, 1/0), `string` as typed. A setting the job type
 * does not declare stays a string.
 */
export function typeSettingValue(
  setting: Pick<JobSetting, 'type'> | undefined,
  raw: string,
): { ok: true; value: unknown } | { ok: false; message: string } {
  const text = raw.trim();
  switch (setting?.type) {
    case 'int32':
      return /^[+-]?\d+$/.test(text)
        ? { ok: true, value: Number(text) }
        : { ok: false, message: `must be a whole number, got ${JSON.stringify(raw)}` };
    case 'float': {
      const value = Number(text);
      return text !== '' && Number.isFinite(value)
        ? { ok: true, value }
        : { ok: false, message: `must be a number, got ${JSON.stringify(raw)}` };
    }
    case 'bool': {
      const word = text.toLowerCase();
      if (TRUE_WORDS.has(word)) return { ok: true, value: true };
      if (FALSE_WORDS.has(word)) return { ok: true, value: false };
      return { ok: false, message: `must be true or false, got ${JSON.stringify(raw)}` };
    }
    default:
      return { ok: true, value: raw };
  }
}

/** The `--set` assignments as typed settings, with every problem found. */
export function parseSetValues(
  declared: readonly Pick<JobSetting, 'key' | 'type'>[],
  assignments: readonly string[],
): { settings: Record<string, unknown>; issues: ValidationIssue[] } {
  const byKey = new Map(declared.map((setting) => [setting.key, setting]));
  const { entries, issues } = parseAssignments(assignments, '--set');
  const settings: Record<string, unknown> = {};
  for (const [key, raw] of entries) {
    const typed = typeSettingValue(byKey.get(key), raw);
    if (typed.ok) settings[key] = typed.value;
    else issues.push({ path: key, message: typed.message });
  }
  return { settings, issues };
}
