import type { ValidationIssue } from '@farm/core';

// A stand-in for core's `validateCommand` until core exports it; same issue paths and rules.
type FieldKind = 'text' | 'name' | 'list' | 'env' | 'positive' | 'nonNegative' | 'any';
type Spec = Readonly<Record<string, readonly [FieldKind, 'required' | 'optional']>>;

const SPECS: Readonly<Record<string, Spec>> = {
  'blender-render': {
    exe: ['name', 'required'],
    exeArgs: ['text', 'optional'],
    argsBefore: ['list', 'optional'],
    blendfile: ['name', 'required'],
    args: ['list', 'optional'],
  },
  'frames-to-video': {
    exe: ['name', 'required'],
    exeArgs: ['text', 'optional'],
    fps: ['positive', 'required'],
    inputGlob: ['name', 'required'],
    outputFile: ['name', 'required'],
    argsBefore: ['list', 'optional'],
    args: ['list', 'optional'],
  },
  exec: {
    exe: ['name', 'required'],
    args: ['list', 'optional'],
    env: ['env', 'optional'],
    cwd: ['name', 'optional'],
  },
  'make-directory': { path: ['name', 'required'] },
  'move-directory': { src: ['name', 'required'], dest: ['name', 'required'] },
  'copy-file': { src: ['name', 'required'], dest: ['name', 'required'] },
  'delete-path': { path: ['name', 'required'] },
  echo: { message: ['any', 'required'] },
  sleep: { duration_in_seconds: ['nonNegative', 'required'] },
};

/** Every problem with a command's name and parameters; empty when it can run. */
export function validateCommand(command: unknown): ValidationIssue[] {
  if (typeof command !== 'object' || command === null) {
    return [{ path: '', message: 'a command must be an object {name, parameters}' }];
  }
  const { name, parameters } = command as { name?: unknown; parameters?: unknown };
  const spec = typeof name === 'string' ? SPECS[name] : undefined;
  if (spec === undefined) {
    return [{ path: 'name', message: `unknown command ${JSON.stringify(name)}` }];
  }
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    return [{ path: 'parameters', message: 'must be an object' }];
  }
  const params = parameters as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  for (const [key, [kind, presence]] of Object.entries(spec)) {
    const path = `parameters.${key}`;
    if (params[key] === undefined) {
      if (presence === 'required') issues.push({ path, message: 'is required' });
      continue;
    }
    issues.push(...checkField(path, kind, params[key]));
  }
  for (const key of Object.keys(params)) {
    if (!(key in spec)) {
      issues.push({
        path: `parameters.${key}`,
        message: `is not a parameter of ${name as string}`,
      });
    }
  }
  return issues;
}

function checkField(path: string, kind: FieldKind, value: unknown): ValidationIssue[] {
  switch (kind) {
    case 'any':
      return [];
    case 'text':
      return typeof value === 'string' ? [] : [{ path, message: 'must be string' }];
    case 'name':
      if (typeof value !== 'string') return [{ path, message: 'must be string' }];
      return value === '' ? [{ path, message: 'must not be empty' }] : [];
    case 'list':
      if (!Array.isArray(value)) return [{ path, message: 'must be array' }];
      return value.flatMap((item, i) =>
        typeof item === 'string' ? [] : [{ path: `${path}[${i}]`, message: 'must be string' }],
      );
    case 'env':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return [{ path, message: 'must be an object' }];
      }
      return Object.entries(value).flatMap(([k, v]) =>
        typeof v === 'string' ? [] : [{ path: `${path}.${k}`, message: 'must be string' }],
      );
    case 'positive':
    case 'nonNegative': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return [{ path, message: 'must be number' }];
      }
      if (kind === 'positive' && value <= 0) return [{ path, message: 'must be > 0' }];
      if (kind === 'nonNegative' && value < 0) return [{ path, message: 'must be >= 0' }];
      return [];
    }
  }
}
