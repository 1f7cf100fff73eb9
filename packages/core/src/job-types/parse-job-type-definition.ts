import type { ValidationIssue } from '../errors';
import {
  JOB_SETTING_TYPES,
  JOB_SETTING_VISIBILITIES,
  type JobSetting,
  type JobSettingType,
} from './job-type-types';
import { checkSettingValue } from './validate-job-settings';

/** A job type's declaration after checking: what `JOB_TYPE` says, as plain data. */
export interface JobTypeDefinition {
  label: string;
  description?: string;
  settings: JobSetting[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function optionalString(
  raw: Record<string, unknown>,
  field: string,
  at: string,
  issues: ValidationIssue[],
): string | undefined {
  const value = raw[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    issues.push({ path: `${at}.${field}`, message: 'must be a string' });
  return typeof value === 'string' ? value : undefined;
}

function optionalBoolean(
  raw: Record<string, unknown>,
  field: string,
  at: string,
  issues: ValidationIssue[],
): boolean | undefined {
  const value = raw[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean')
    issues.push({ path: `${at}.${field}`, message: 'must be true or false' });
  return typeof value === 'boolean' ? value : undefined;
}

function parseSetting(raw: unknown, at: string, issues: ValidationIssue[]): JobSetting | undefined {
  if (!isObject(raw)) {
    issues.push({ path: at, message: 'must be an object { key, type, ... }' });
    return undefined;
  }
  const before = issues.length;
  const key = raw.key;
  if (typeof key !== 'string' || key.trim() === '') {
    issues.push({ path: `${at}.key`, message: 'must be a non-empty string' });
  } else if (key === '__proto__') {
    issues.push({ path: `${at}.key`, message: '"__proto__" cannot be a setting key' });
  }
  const type = raw.type;
  if (!(JOB_SETTING_TYPES as readonly unknown[]).includes(type)) {
    issues.push({
      path: `${at}.type`,
      message: `unknown type ${JSON.stringify(type)}; use one of ${JOB_SETTING_TYPES.join(', ')}`,
    });
  }
  const setting: JobSetting = { key: key as string, type: type as JobSettingType };
  const subtype = optionalString(raw, 'subtype', at, issues);
  if (subtype !== undefined) setting.subtype = subtype;
  if (raw.choices !== undefined && raw.choices !== null) {
    const choices = raw.choices;
    if (
      !Array.isArray(choices) ||
      choices.length === 0 ||
      !choices.every((c) => typeof c === 'string' || typeof c === 'number')
    ) {
      issues.push({
        path: `${at}.choices`,
        message: 'must be a non-empty list of strings or numbers',
      });
    } else {
      setting.choices = [...choices];
    }
  }
  if (raw.propargs !== undefined && raw.propargs !== null) {
    if (!isObject(raw.propargs)) {
      issues.push({ path: `${at}.propargs`, message: 'must be an object' });
    } else {
      setting.propargs = { ...raw.propargs };
      for (const bound of ['min', 'max'] as const) {
        const value = raw.propargs[bound];
        if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value))) {
          issues.push({ path: `${at}.propargs.${bound}`, message: 'must be a number' });
        }
      }
    }
  }
  for (const field of ['description', 'label', 'eval'] as const) {
    const value = optionalString(raw, field, at, issues);
    if (value !== undefined) setting[field] = value;
  }
  if (raw.evalInfo !== undefined && raw.evalInfo !== null) {
    if (!isObject(raw.evalInfo)) {
      issues.push({ path: `${at}.evalInfo`, message: 'must be an object' });
    } else {
      const evalInfo: NonNullable<JobSetting['evalInfo']> = {};
      const showLinkButton = optionalBoolean(
        raw.evalInfo,
        'showLinkButton',
        `${at}.evalInfo`,
        issues,
      );
      const description = optionalString(raw.evalInfo, 'description', `${at}.evalInfo`, issues);
      if (showLinkButton !== undefined) evalInfo.showLinkButton = showLinkButton;
      if (description !== undefined) evalInfo.description = description;
      setting.evalInfo = evalInfo;
    }
  }
  if (raw.visible !== undefined && raw.visible !== null) {
    if (!(JOB_SETTING_VISIBILITIES as readonly unknown[]).includes(raw.visible)) {
      issues.push({
        path: `${at}.visible`,
        message: `must be one of ${JOB_SETTING_VISIBILITIES.join(', ')}`,
      });
    } else {
      setting.visible = raw.visible as JobSetting['visible'];
    }
  }
  for (const field of ['required', 'editable'] as const) {
    const value = optionalBoolean(raw, field, at, issues);
    if (value !== undefined) setting[field] = value;
  }
  if (issues.length > before) return undefined;
  if (raw.default !== undefined && raw.default !== null) {
    setting.default = raw.default;
    for (const problem of checkSettingValue(setting, raw.default)) {
      issues.push({ path: `${at}.default`, message: problem });
    }
  }
  return setting;
}

/**
 * Checks the `JOB_TYPE` object a script declares and returns it as plain data, with every
 * problem listed (paths such as `JOB_TYPE.settings[2].type`). Unknown fields are dropped.
 */
export function parseJobTypeDefinition(raw: unknown): {
  definition: JobTypeDefinition;
  issues: ValidationIssue[];
} {
  const issues: ValidationIssue[] = [];
  const definition: JobTypeDefinition = { label: '', settings: [] };
  if (!isObject(raw)) {
    issues.push({
      path: 'JOB_TYPE',
      message: 'the script must declare const JOB_TYPE = { label, settings }',
    });
    return { definition, issues };
  }
  if (typeof raw.label !== 'string' || raw.label.trim() === '') {
    issues.push({ path: 'JOB_TYPE.label', message: 'must be a non-empty string' });
  } else {
    definition.label = raw.label;
  }
  const description = optionalString(raw, 'description', 'JOB_TYPE', issues);
  if (description !== undefined) definition.description = description;
  const settings = raw.settings ?? [];
  if (!Array.isArray(settings)) {
    issues.push({ path: 'JOB_TYPE.settings', message: 'must be a list of settings' });
    return { definition, issues };
  }
  const seen = new Set<string>();
  settings.forEach((rawSetting: unknown, i) => {
    const setting = parseSetting(rawSetting, `JOB_TYPE.settings[${i}]`, issues);
    const key = isObject(rawSetting) ? rawSetting.key : undefined;
    if (typeof key === 'string' && seen.has(key)) {
      issues.push({ path: `JOB_TYPE.settings[${i}].key`, message: `"${key}" is declared twice` });
    }
    if (typeof key === 'string') seen.add(key);
    if (setting) definition.settings.push(setting);
  });
  return { definition, issues };
}
