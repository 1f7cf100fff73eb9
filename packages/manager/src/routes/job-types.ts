import { createHash } from 'node:crypto';
import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import type { ServiceContext } from '../services/service-context';
import type { OperationRegistry } from './operation-registry';

/** `"etag"` as an HTTP entity tag. */
function quoted(etag: string): string {
  return `"${etag.replace(/"/g, '')}"`;
}

/** True when an `If-None-Match` header value names `etag` (or is `*`). */
export function ifNoneMatchHits(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const wanted = quoted(etag);
  return (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((part) => part.trim().replace(/^W\//, ''))
    .some((part) => part === '*' || part === wanted);
}

// Conditional GETs: a client that has the current definition gets 304 without the body.
function ifNoneMatch(input: {
  headers?: Readonly<Record<string, string | string[] | undefined>>;
}): string | string[] | undefined {
  return input.headers?.['if-none-match'];
}

/** The job-type operations: list (with an ETag over the whole list) and get (with its etag). */
export function registerJobTypeRoutes(router: OperationRegistry, ctx: ServiceContext): void {
  const definitions: OperationDefinition[] = [
    defineOperation('listJobTypes', (input) => {
      const jobTypes = ctx.jobTypes.list().sort((a, b) => (a.name < b.name ? -1 : 1));
      const etag = computeListEtag(jobTypes.map((info) => `${info.name}:${info.etag}`));
      const headers = { ETag: quoted(etag), 'Cache-Control': 'no-cache' };
      if (ifNoneMatchHits(ifNoneMatch(input), etag)) return respond(304, undefined, headers);
      return respond(200, { jobTypes }, headers);
    }),
    defineOperation('getJobType', (input) => {
      const info = ctx.jobTypes.get(input.params.name).info();
      const headers = { ETag: quoted(info.etag), 'Cache-Control': 'no-cache' };
      if (ifNoneMatchHits(ifNoneMatch(input), info.etag)) return respond(304, undefined, headers);
      return respond(200, info, headers);
    }),
  ];
  router.push(...definitions);
}

// The list changes when any job type is added, removed or changed: hash their names and etags.
function computeListEtag(parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
}
