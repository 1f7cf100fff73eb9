// Ajv's documented entry point for draft 2020-12 lives under dist/ (ajv has no exports map).
// eslint-disable-next-line no-restricted-imports
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { FarmError, type ValidationIssue } from '../errors';
import type { operations } from '../generated/openapi-types';
import {
  OPERATIONS,
  SCHEMA_BUNDLE,
  SCHEMA_BUNDLE_ID,
  type OperationId,
} from '../generated/operations';
import type { SchemaName, Schemas } from '../generated/schema-types';

/** The outcome of a validation: the value (with defaults filled in), or every problem found. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

type Params<T> = T extends { parameters: { path: infer P } } ? P : Record<string, never>;
type Query<T> = T extends { parameters: { query?: infer Q } }
  ? [Exclude<Q, undefined>] extends [never]
    ? Record<string, never>
    : Exclude<Q, undefined>
  : Record<string, never>;
type Body<T> = T extends { requestBody?: never }
  ? undefined
  : T extends { requestBody: { content: { 'application/json': infer B } } }
    ? B
    : T extends { requestBody?: { content: { 'application/json': infer B } } }
      ? B | undefined
      : undefined;

/** The validated input of one operation: path params, query and JSON body, typed from the spec. */
export interface OperationInput<K extends OperationId> {
  params: Params<operations[K]>;
  query: Query<operations[K]>;
  body: Body<operations[K]>;
}

/** The raw input of a request, as a router hands it over (query strings not yet coerced). */
export interface RawOperationInput {
  params?: unknown;
  query?: unknown;
  body?: unknown;
}

type Part = 'params' | 'query' | 'body';

let strictAjv: Ajv2020 | undefined;
let coercingAjv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function createAjv(coerce: boolean): Ajv2020 {
  // strict: false because OpenAPI adds keywords JSON Schema does not know (discriminator, example).
  const ajv = new Ajv2020({
    allErrors: true,
    strict: false,
    useDefaults: true,
    ...(coerce ? { coerceTypes: 'array' } : {}),
  });
  addFormats(ajv);
  ajv.addSchema(SCHEMA_BUNDLE);
  return ajv;
}

function ajvFor(coerce: boolean): Ajv2020 {
  if (coerce) return (coercingAjv ??= createAjv(true));
  return (strictAjv ??= createAjv(false));
}

function compile(key: string, coerce: boolean, schema: Record<string, unknown>): ValidateFunction {
  const cacheKey = `${coerce ? 'coerce' : 'strict'}:${key}`;
  let validate = compiled.get(cacheKey);
  if (!validate) {
    validate = ajvFor(coerce).compile(schema);
    compiled.set(cacheKey, validate);
  }
  return validate;
}

/**
 * Validates data against one component schema of the API document, e.g.
 * `validateSchema('SubmittedJob', body)`. Defaults from the schema are filled into `data` in place.
 */
export function validateSchema<K extends SchemaName>(
  name: K,
  data: unknown,
): ValidationResult<Schemas[K]> {
  if (!Object.hasOwn(SCHEMA_BUNDLE.$defs, name)) {
    throw new FarmError('internal', `the API document has no schema named "${String(name)}"`);
  }
  const validate = compile(`schema:${name}`, false, {
    $ref: `${SCHEMA_BUNDLE_ID}#/$defs/${name}`,
  });
  if (validate(data)) return { ok: true, value: data as Schemas[K] };
  return { ok: false, issues: toIssues(validate.errors ?? [], '', 'field') };
}

/**
 * Validates a request's path params, query and JSON body against the operation's schemas, all
 * at once. Params and query are copied and their strings coerced (`limit=5` becomes 5, a single
 * `status=queued` becomes `['queued']`); the body is checked as is and gets defaults filled in.
 * Issues name where they are: `body.settings.fps`, `query.limit`, `params.jobId`.
 */
export function validateOperationInput<K extends OperationId>(
  operationId: K,
  input: RawOperationInput,
): ValidationResult<OperationInput<K>> {
  const operation = OPERATIONS[operationId] as (typeof OPERATIONS)[OperationId] | undefined;
  if (!operation)
    throw new FarmError('internal', `the API document has no operation "${operationId}"`);
  const issues: ValidationIssue[] = [];
  const value: Record<Part, unknown> = {
    params: copyParameters(input.params),
    query: copyParameters(input.query),
    body: input.body,
  };

  for (const part of ['params', 'query'] as const) {
    const schema = operation[part];
    if (schema) {
      const validate = compile(`${operationId}:${part}`, true, schema);
      if (!validate(value[part]))
        issues.push(...toIssues(validate.errors ?? [], part, 'parameter'));
    } else {
      for (const key of Object.keys(value[part] as object)) {
        issues.push({ path: joinPath(part, key), message: `unknown parameter "${key}"` });
      }
    }
  }

  if (operation.body) {
    if (input.body === undefined) {
      if (operation.bodyRequired) issues.push({ path: 'body', message: 'is required' });
    } else {
      const validate = compile(`${operationId}:body`, false, operation.body);
      if (!validate(input.body)) issues.push(...toIssues(validate.errors ?? [], 'body', 'field'));
    }
  } else if (operation.contentTypes.length === 0 && !isEmptyBody(input.body)) {
    issues.push({ path: 'body', message: 'this operation takes no body' });
  }

  return issues.length === 0
    ? { ok: true, value: value as unknown as OperationInput<K> }
    : { ok: false, issues };
}

function copyParameters(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  // A copy, because coercion and defaults write into the object (and Express's req.query is shared).
  return structuredClone({ ...(value as Record<string, unknown>) });
}

function isEmptyBody(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)
  );
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function joinPath(base: string, segment: string): string {
  if (/^(0|[1-9][0-9]*)$/.test(segment)) return `${base}[${segment}]`;
  if (IDENTIFIER.test(segment)) return base ? `${base}.${segment}` : segment;
  return `${base}[${JSON.stringify(segment)}]`;
}

function readablePath(root: string, instancePath: string): string {
  if (!instancePath) return root;
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce(joinPath, root);
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

function typeMessage(type: unknown): string {
  const types = Array.isArray(type) ? type : String(type).split(',');
  return `must be ${types.map((t) => ARTICLE[String(t)] ?? String(t)).join(' or ')}`;
}

function issueFor(error: ErrorObject, root: string, noun: 'field' | 'parameter'): ValidationIssue {
  const at = readablePath(root, error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: joinPath(at, String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const name = String(params.additionalProperty ?? params.unevaluatedProperty);
      return { path: joinPath(at, name), message: `unknown ${noun} "${name}"` };
    }
    case 'type':
      return { path: at, message: typeMessage(params.type) };
    case 'enum':
      return {
        path: at,
        message: `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`,
      };
    case 'const':
      return { path: at, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'format':
      return { path: at, message: `must be a valid ${String(params.format)}` };
    case 'minLength':
      return {
        path: at,
        message:
          params.limit === 1
            ? 'must not be empty'
            : `must be at least ${String(params.limit)} characters`,
      };
    case 'maxLength':
      return { path: at, message: `must be at most ${String(params.limit)} characters` };
    case 'minItems':
      return { path: at, message: `must have at least ${String(params.limit)} items` };
    case 'maxItems':
      return { path: at, message: `must have at most ${String(params.limit)} items` };
    case 'maxProperties':
      return { path: at, message: `must have at most ${String(params.limit)} entries` };
    case 'pattern':
      return { path: at, message: `must match ${String(params.pattern)}` };
    case 'uniqueItems':
      return {
        path: at,
        message: `must not repeat items (items ${String(params.j)} and ${String(params.i)} are equal)`,
      };
    default:
      return { path: at, message: error.message ?? `fails ${error.keyword}` };
  }
}

/** Ajv errors as readable issues, without the noise of unions (`oneOf` of a value or null). */
function toIssues(
  errors: ErrorObject[],
  root: string,
  noun: 'field' | 'parameter',
): ValidationIssue[] {
  const unions = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const relevant = errors.filter((e) => {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      // Keep the summary only when no branch said anything more specific.
      return !errors.some(
        (o) => o !== e && !unions.includes(o) && o.instancePath.startsWith(e.instancePath),
      );
    }
    // "must be null" from the null branch of a nullable union says nothing useful.
    const isNullBranch = e.keyword === 'type' && (e.params as { type?: unknown }).type === 'null';
    return !(isNullBranch && unions.some((u) => u.instancePath === e.instancePath));
  });
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const error of relevant) {
    const issue = issueFor(error, root, noun);
    const key = `${issue.path}\u0000${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}
