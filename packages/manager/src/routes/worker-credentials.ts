import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { FarmError } from '@farm/core';
import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import { createTokenSecret, hashTokenSecret } from '../services/auth/token-secret';
import { storeRegistrationSecret } from '../services/workers/register-worker';
import type { ServiceContext } from '../services/service-context';
import type { OperationRegistry } from './operation-registry';

/** What rotating the secret and revoking worker tokens need from the composition. */
export interface WorkerCredentialDeps {
  /** The data-folder file that keeps a generated secret (rewritten on rotation), if used. */
  registrationSecretFile?: string;
  /** Drops cached worker-token answers of a worker. */
  forgetWorkerToken(workerId: string): void;
  /** Closes the worker's socket so it notices at once. */
  disconnectWorker(workerId: string, reason: string): void;
}

/** `rotateRegistrationSecret` and `revokeWorkerToken` (issue 7). */
export function registerWorkerCredentialRoutes(
  router: OperationRegistry,
  ctx: ServiceContext,
  deps: WorkerCredentialDeps,
): void {
  const definitions: OperationDefinition[] = [
    defineOperation('rotateRegistrationSecret', async () => {
      const secret = randomBytes(24).toString('base64url');
      await storeRegistrationSecret(ctx.db, secret);
      // A generated secret lives in the data folder; keep it in step so a restart does not bring
      // the old one back (a configured secret does come back: change the configuration).
      if (deps.registrationSecretFile) {
        fs.writeFileSync(deps.registrationSecretFile, `${secret}\n`, { mode: 0o600 });
      }
      ctx.logger.info('worker registration secret rotated');
      return respond(200, { secret }, { 'Cache-Control': 'no-store' });
    }),
    defineOperation('revokeWorkerToken', async ({ params }) => {
      // The token is replaced by the hash of a secret nobody knows: the worker row (history,
      // tasks) stays, but its token stops working and it must register again.
      const result = await ctx.db
        .updateTable('workers')
        .set({ token_hash: hashTokenSecret(createTokenSecret('revoked_')) })
        .where('id', '=', params.workerId)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) {
        throw new FarmError('not_found', 'there is no such worker', {
          details: { workerId: params.workerId },
        });
      }
      deps.forgetWorkerToken(params.workerId);
      deps.disconnectWorker(params.workerId, 'the worker token was revoked');
      return respond(204);
    }),
  ];
  router.push(...definitions);
}
