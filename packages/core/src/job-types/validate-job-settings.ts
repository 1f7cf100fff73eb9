import type { ValidationIssue } from '../errors';
import type { JobSetting } from './job-type-types';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function typeProblem(setting: JobSetting, value: unknown): string | undefined {
  switch (setting.type) {
    case 'string':
      return typeof value === 'string' ? undefined : `must be a string, got ${describe(value)}`;
    case 'bool':
      return typeof value === 'boolean'
        ? undefined
        : `must be true or false, got ${describe(value)}`;
    case 'float':
      return typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : `must be a number, got ${describe(value)}`;
    case 'int32':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return `must be a whole number, got ${describe(value)}`;
      }
      return value < INT32_MIN || value > INT32_MAX
        ? `must be between ${INT32_MIN} and ${INT32_MAX} (int32), got ${value}`
        : undefined;
    default:
      return `has unknown type ${JSON.stringify(setting.type)}`;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object' || typeof value === 'function') return 'an object';
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}

/**
 * The problems of one value for one setting: its type, its `choices` and its `propargs` bounds
 * (`min`/`max`; Blender's `soft_min`/`soft_max` only guide sliders and are not enforced).
 */
export function checkSettingValue(setting: JobSetting, value: unknown): string[] {
  const problem = typeProblem(setting, value);
  if (problem) return [problem];
  const problems: string[] = [];
  if (setting.choices && !setting.choices.includes(value as string | number)) {
    problems.push(
      `must be one of ${setting.choices.map((c) => JSON.stringify(c)).join(', ')}, got ${describe(value)}`,
    );
  }
  if (typeof value === 'number' && setting.propargs) {
    const { min, max } = setting.propargs;
    if (typeof min === 'number' && value < min)
      problems.push(`must be at least ${min}, got ${value}`);
    if (typeof max === 'number' && value > max)
      problems.push(`must be at most ${max}, got ${value}`);
  }
  return problems;
}

/** The outcome of checking submitted settings against a job type. */
export interface SettingsValidation {
  /** The submitted settings with defaults applied; unknown keys are kept. */
  settings: Record<string, unknown>;
  /** Every problem, each with the setting key as `path`. */
  issues: ValidationIssue[];
  /** Keys the job type does not declare (kept, as Flamenco passes them through). */
  warnings: string[];
}

/**
 * Checks submitted settings against a job type's declared settings, collecting every problem:
 * defaults are applied first (so a required setting with a default never fails), then each
 * value's type, choices and bounds are checked. `null` counts as "no value".
 */
export function validateJobSettings(
  declared: readonly JobSetting[],
  submitted: Record<string, unknown> | undefined,
): SettingsValidation {
  const settings: Record<string, unknown> = {};
  const issues: ValidationIssue[] = [];
  const warnings: string[] = [];
  const known = new Set(declared.map((setting) => setting.key));
  for (const [key, value] of Object.entries(submitted ?? {})) {
    if (value === undefined || value === null) continue;
    if (key === '__proto__') {
      issues.push({ path: key, message: 'is not allowed as a setting name' });
      continue;
    }
    settings[key] = value;
    if (!known.has(key)) {
      warnings.push(`setting "${key}" is not declared by the job type; it is kept as given`);
    }
  }
  for (const setting of declared) {
    if (!Object.hasOwn(settings, setting.key) && setting.default !== undefined) {
      settings[setting.key] = structuredClone(setting.default);
    }
    if (!Object.hasOwn(settings, setting.key)) {
      if (setting.required) issues.push({ path: setting.key, message: 'is required' });
      continue;
    }
    for (const message of checkSettingValue(setting, settings[setting.key])) {
      issues.push({ path: setting.key, message });
    }
  }
  return { settings, issues, warnings };
}
