import { FarmError } from '@farm/core';
import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import type { Principal, UserPrincipal } from '../http/principal';
import type { FileStore } from '../services/file-store';
import type { OperationRegistry } from './operation-registry';

function userOf(principal: Principal | null): UserPrincipal {
  if (principal?.kind !== 'user') throw new FarmError('forbidden', 'a user credential is needed');
  return principal;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The file-store operations: missing files, uploads, checkouts. */
export function registerFileRoutes(router: OperationRegistry, files: FileStore): void {
  const definitions: OperationDefinition[] = [
    defineOperation('findMissingFiles', async ({ body }) => ({
      missing: await files.findMissing(body.files),
    })),
    defineOperation('uploadFile', async ({ params, query, headers, bodyStream }) => {
      const length = header(headers?.['content-length']);
      const outcome = await files.receiveUpload({
        sha256: params.sha256,
        size: params.size,
        ...(query.offset !== undefined ? { offset: query.offset } : {}),
        ...(headers?.['content-range'] !== undefined
          ? { contentRange: header(headers['content-range']) ?? '' }
          : {}),
        ...(length !== undefined && /^\d+$/.test(length) ? { contentLength: Number(length) } : {}),
        body: bodyStream,
      });
      return respond(outcome.status, outcome.result);
    }),
    defineOperation('createCheckout', async ({ principal, body }) =>
      respond(201, await files.createCheckout(body, userOf(principal).userId)),
    ),
    defineOperation('getCheckout', ({ params }) => files.getCheckout(params.checkoutId)),
    defineOperation('deleteCheckout', async ({ principal, params }) => {
      const user = userOf(principal);
      await files.deleteCheckout(params.checkoutId, user);
      return respond(204);
    }),
  ];
  router.push(...definitions);
}
