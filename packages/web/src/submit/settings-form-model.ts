import type { JobSetting } from '../api/api-types';
import { validateJobSettings } from '../core-rules';

/** What a form field holds: text for text boxes and selects, a boolean for checkboxes. */
export type FormValue = string | boolean;
export type FormValues = Record<string, FormValue>;

/** The settings the form shows: everything but `hidden` ones (`submission` and `web` are for us). */
export function formSettings(settings: readonly JobSetting[]): JobSetting[] {
  return settings.filter((s) => (s.visible ?? 'visible') !== 'hidden');
}

/** The form's starting values: each setting's default, as the field shows it. */
export function initialFormValues(settings: readonly JobSetting[]): FormValues {
  const values: FormValues = {};
  for (const setting of formSettings(settings)) {
    if (setting.type === 'bool') values[setting.key] = setting.default === true;
    else values[setting.key] = describeDefault(setting.default);
  }
  return values;
}

function describeDefault(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value);
}

/**
 * Turns the fields into setting values: numbers parsed, empty fields left out (so defaults and
 * "is required" apply as on the manager). Text that is not a number is passed on as text, so the
 * validation names the problem instead of silently dropping it.
 */
export function formToSettings(
  settings: readonly JobSetting[],
  values: FormValues,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const setting of formSettings(settings)) {
    const raw = values[setting.key];
    if (raw === undefined) continue;
    if (setting.type === 'bool') {
      out[setting.key] = raw === true;
      continue;
    }
    const text = typeof raw === 'string' ? raw : String(raw);
    if (text.trim() === '') continue;
    if (setting.type === 'int32' || setting.type === 'float') {
      const n = Number(text.trim());
      out[setting.key] = Number.isFinite(n) ? n : text;
    } else {
      out[setting.key] = text;
    }
  }
  return out;
}

export interface FormCheck {
  settings: Record<string, unknown>;
  /** Problems by field key (`name` and `priority` for the job's own fields). */
  problems: Record<string, string[]>;
  count: number;
}

/** Validates the whole form with core's rules (the manager runs the same); every problem is listed. */
export function checkSubmitForm(
  settings: readonly JobSetting[],
  values: FormValues,
  job: { name: string; priority: string },
): FormCheck {
  const problems: Record<string, string[]> = {};
  const add = (key: string, message: string) => (problems[key] ??= []).push(message);
  if (job.name.trim() === '') add('name', 'is required');
  const priority = Number(job.priority);
  if (job.priority.trim() === '' || !Number.isInteger(priority) || priority < 0 || priority > 100) {
    add('priority', 'must be a whole number from 0 to 100');
  }
  const result = validateJobSettings(settings, formToSettings(settings, values));
  for (const issue of result.issues) add(issue.path, issue.message);
  const count = Object.values(problems).reduce((n, list) => n + list.length, 0);
  return { settings: result.settings, problems, count };
}

/**
 * The form field a server-side issue path points at: `body.settings.fps`, `/settings/fps`,
 * `settings.fps` and `fps` all name the setting `fps`; `body.name` names the job's name.
 */
export function fieldOfIssuePath(path: string): string {
  const parts = path.split(/[./]/).filter(Boolean);
  if (parts[0] === 'body') parts.shift();
  if (parts[0] === 'settings' && parts.length > 1) return parts.slice(1).join('.');
  return parts.join('.') || 'form';
}
