import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import {
  getJobLastRendered,
  getLastRendered,
  readLastRenderedImage,
  type LastRenderedImage,
} from '../services/previews';
import { visibleProjectIds } from '../services/auth/project-access';
import type { ServiceContext } from '../services/service-context';
import type { OperationRegistry } from './operation-registry';

// A URL with the current version never changes content; anything else must be revalidated.
const IMMUTABLE = 'private, max-age=31536000, immutable';
const REVALIDATE = 'private, no-cache';

function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const list = (Array.isArray(header) ? header.join(',') : header).split(',');
  return list.some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

function imageResponse(
  image: LastRenderedImage,
  version: string | undefined,
  ifNoneMatch: string | string[] | undefined,
) {
  const headers = {
    ETag: image.etag,
    'Cache-Control': version === image.version ? IMMUTABLE : REVALIDATE,
  };
  if (etagMatches(ifNoneMatch, image.etag)) return respond(304, undefined, headers);
  return respond(200, image.bytes, { ...headers, 'Content-Type': 'image/jpeg' });
}

/** The last-rendered operations: a job's and the farm's newest image info, and the images. */
export function registerLastRenderedRoutes(router: OperationRegistry, ctx: ServiceContext): void {
  const definitions: OperationDefinition[] = [
    defineOperation('getJobLastRendered', async ({ params }) => {
      const info = await getJobLastRendered(ctx, params.jobId);
      return info ? respond(200, info, { 'Cache-Control': REVALIDATE }) : respond(204);
    }),
    defineOperation('getLastRendered', async ({ principal }) => {
      // The newest image of the projects the caller has a role in (issue 7).
      const info = await getLastRendered(ctx, visibleProjectIds(principal));
      return info ? respond(200, info, { 'Cache-Control': REVALIDATE }) : respond(204);
    }),
    defineOperation('getJobLastRenderedImage', async ({ params, query, headers }) => {
      const image = await readLastRenderedImage(ctx, params.jobId, params.size);
      return imageResponse(image, query.v, headers?.['if-none-match']);
    }),
  ];
  router.push(...definitions);
}
