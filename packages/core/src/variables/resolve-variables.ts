import { validationError, type ValidationIssue } from '../errors';
import {
  DEFAULT_VARIABLES,
  VARIABLE_NAME_PATTERN,
  VARIABLE_PLATFORMS,
  VARIABLE_READERS,
  type VariableReader,
  type VariablesConfig,
} from './variable-config';

/** One variable as a given audience on a given platform sees it. */
export interface ResolvedVariable {
  value: string;
  isTwoWay: boolean;
}

/** Validated variables, ready to look up per audience and platform. */
export interface ResolvedVariables {
  /**
   * The variables `audience` sees on `platform`, by name (a fresh object each call). A platform
   * Farm does not know (say `freebsd`) gets only the values configured for `all`.
   */
  lookup(audience: VariableReader, platform: string): Record<string, ResolvedVariable>;
  /** Every defined name, sorted. */
  readonly names: readonly string[];
  /** Things that were accepted but are worth a log line (e.g. an implicit variable won). */
  readonly warnings: readonly string[];
}

export interface ResolveVariablesOptions {
  /**
   * Variables the manager defines itself (such as `jobs`, the shared storage path): one-way,
   * every platform and audience, and they replace a configured variable of the same name.
   */
  implicit?: Record<string, string>;
}

// Cells are keyed `${audience}/${platform}`, either part possibly `all`. Lookup tries the most
// specific key first: a specific platform beats `all`, then a specific audience beats `all`.
interface Cell {
  value: string;
  /** The config path that set it, for duplicate messages. */
  source: string;
}

const VARIABLE_KEYS = new Set(['is_twoway', 'values']);
const VALUE_KEYS = new Set(['platform', 'platforms', 'audience', 'value']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Flamenco keeps `C:\` style values as typed, but a trailing separator would stop the prefix
// from ending at a path boundary, so it is dropped.
function stripTrailingSeparators(value: string): string {
  return value.replace(/[/\\]+$/, '');
}

/**
 * Validates a `variables` config and builds the lookup table. Every problem is collected and
 * thrown at once as a `validation_failed` FarmError whose issues carry paths such as
 * `variables.blender.values[1].platform`. `blender` and `blenderArgs` are added from
 * `DEFAULT_VARIABLES` unless the config defines them.
 */
export function resolveVariables(
  config: VariablesConfig | undefined,
  options: ResolveVariablesOptions = {},
): ResolvedVariables {
  const issues: ValidationIssue[] = [];
  const warnings: string[] = [];
  // name -> `${audience}/${platform}` -> cell
  const table = new Map<string, Map<string, Cell>>();
  const twoWay = new Set<string>();

  const raw: unknown = config ?? {};
  if (!isRecord(raw)) {
    throw validationError('variables must be a mapping of names to variables', [
      { path: 'variables', message: 'must be a mapping of variable names to { values: [...] }' },
    ]);
  }
  const merged: Record<string, unknown> = { ...DEFAULT_VARIABLES, ...raw };

  for (const [name, variable] of Object.entries(merged)) {
    const path = `variables.${name}`;
    if (!VARIABLE_NAME_PATTERN.test(name)) {
      issues.push({
        path,
        message: `"${name}" is not a valid variable name; use letters, digits, "_" and "-", not starting with a digit or "-"`,
      });
      continue;
    }
    if (options.implicit && Object.hasOwn(options.implicit, name)) {
      if (Object.hasOwn(raw, name)) {
        warnings.push(
          `variable "${name}" is defined by the manager itself; the configured one is ignored`,
        );
      }
      continue;
    }
    if (!isRecord(variable)) {
      issues.push({ path, message: 'must be a mapping with a "values" list' });
      continue;
    }
    for (const key of Object.keys(variable)) {
      if (!VARIABLE_KEYS.has(key)) {
        const hint = key === 'direction' ? '; use "is_twoway: true" instead of "direction"' : '';
        issues.push({ path: `${path}.${key}`, message: `unknown key "${key}"${hint}` });
      }
    }
    const isTwoWay = variable.is_twoway ?? false;
    if (typeof isTwoWay !== 'boolean') {
      issues.push({ path: `${path}.is_twoway`, message: 'must be true or false' });
    } else if (isTwoWay) {
      twoWay.add(name);
    }
    if (!Array.isArray(variable.values) || variable.values.length === 0) {
      issues.push({ path: `${path}.values`, message: 'must be a non-empty list of values' });
      continue;
    }
    const cells = new Map<string, Cell>();
    table.set(name, cells);
    variable.values.forEach((entry: unknown, index) => {
      resolveValue(entry, `${path}.values[${index}]`, isTwoWay === true, cells, issues, warnings);
    });
  }

  for (const [name, value] of Object.entries(options.implicit ?? {})) {
    if (!VARIABLE_NAME_PATTERN.test(name)) {
      issues.push({ path: `implicit.${name}`, message: `"${name}" is not a valid variable name` });
      continue;
    }
    twoWay.delete(name);
    table.set(name, new Map([['all/all', { value, source: 'implicit' }]]));
  }

  if (issues.length > 0) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const list = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw validationError(`invalid variables config (${count}): ${list}`, issues);
  }

  const names = [...table.keys()].sort();
  return {
    names,
    warnings,
    lookup(audience, platform) {
      const result: Record<string, ResolvedVariable> = {};
      for (const name of names) {
        const cells = table.get(name)!;
        const cell = [`${audience}/${platform}`, `all/${platform}`, `${audience}/all`, 'all/all']
          .map((key) => cells.get(key))
          .find((c) => c !== undefined);
        if (cell) result[name] = { value: cell.value, isTwoWay: twoWay.has(name) };
      }
      return result;
    },
  };
}

function resolveValue(
  entry: unknown,
  path: string,
  isTwoWay: boolean,
  cells: Map<string, Cell>,
  issues: ValidationIssue[],
  warnings: string[],
): void {
  if (!isRecord(entry)) {
    issues.push({ path, message: 'must be a mapping with "platform" and "value"' });
    return;
  }
  let ok = true;
  for (const key of Object.keys(entry)) {
    if (!VALUE_KEYS.has(key)) {
      issues.push({ path: `${path}.${key}`, message: `unknown key "${key}"` });
      ok = false;
    }
  }

  // YAML `platform:` with nothing after it reads as null; that is a missing platform, not a typo.
  const platform = entry.platform === null || entry.platform === '' ? undefined : entry.platform;
  const platforms: string[] = [];
  const checkPlatform = (candidate: unknown, platformPath: string): void => {
    if (
      typeof candidate === 'string' &&
      (VARIABLE_PLATFORMS as readonly string[]).includes(candidate)
    ) {
      platforms.push(candidate);
    } else {
      issues.push({
        path: platformPath,
        message: `unknown platform ${JSON.stringify(candidate)}; use one of ${VARIABLE_PLATFORMS.join(', ')}`,
      });
      ok = false;
    }
  };
  if (platform !== undefined) checkPlatform(platform, `${path}.platform`);
  if (entry.platforms !== undefined) {
    if (Array.isArray(entry.platforms)) {
      entry.platforms.forEach((p: unknown, i) => checkPlatform(p, `${path}.platforms[${i}]`));
    } else {
      issues.push({ path: `${path}.platforms`, message: 'must be a list of platforms' });
      ok = false;
    }
  }
  if (platform !== undefined && entry.platforms !== undefined) {
    warnings.push(`${path} sets both "platform" and "platforms"; both are used`);
  }
  if (platform === undefined && (entry.platforms === undefined || platforms.length === 0) && ok) {
    issues.push({
      path: `${path}.platform`,
      message: `a value needs a platform (${VARIABLE_PLATFORMS.join(', ')})`,
    });
    ok = false;
  }

  const audience = entry.audience ?? 'all';
  // Flamenco reads an empty audience as `all`.
  const audiences: string[] = [];
  if (audience === 'all' || audience === '') audiences.push('all');
  else if (
    typeof audience === 'string' &&
    (VARIABLE_READERS as readonly string[]).includes(audience)
  ) {
    audiences.push(audience);
  } else {
    issues.push({
      path: `${path}.audience`,
      message: `unknown audience ${JSON.stringify(audience)}; use workers, users or all`,
    });
    ok = false;
  }

  if (typeof entry.value !== 'string') {
    issues.push({ path: `${path}.value`, message: 'must be a string' });
    return;
  }
  let value = entry.value;
  if (isTwoWay) {
    value = stripTrailingSeparators(value);
    if (value === '') {
      issues.push({
        path: `${path}.value`,
        message: 'a two-way value must be a path below the root; "" or "/" would match every path',
      });
      return;
    }
  }
  if (!ok) return;

  for (const plat of new Set(platforms)) {
    for (const aud of audiences) {
      const key = `${aud}/${plat}`;
      const existing = cells.get(key);
      // Two values for the same cell are a config mistake, not something to settle by file order.
      if (existing) {
        issues.push({
          path: `${path}.value`,
          message: `platform ${plat}, audience ${aud} already has a value (from ${existing.source})`,
        });
        return;
      }
      cells.set(key, { value, source: path });
    }
  }
}
