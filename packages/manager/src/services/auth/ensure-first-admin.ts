import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { API_TOKEN_SCOPES } from './api-token-scopes';
import { createTokenSecret, hashTokenSecret } from './token-secret';

/** The file in the data folder that holds the first admin's token (mode 0600). */
export const ADMIN_TOKEN_FILE = 'admin-token';

export interface FirstAdmin {
  userName: string;
  token: string;
  tokenFile: string;
}

/**
 * On a farm without users, creates the `admin` user with an API token holding every scope,
 * writes the token to `<dataDir>/admin-token` (0600) and returns it so the caller prints it once.
 * Returns null when users exist already. Safe with several replicas starting at once: the insert
 * is guarded by the unique user name, and the loser sees the winner's user.
 */
export async function ensureFirstAdmin(
  db: Kysely<Database>,
  dataDir: string,
): Promise<FirstAdmin | null> {
  const anyUser = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (anyUser) return null;
  const token = createTokenSecret();
  const created = await db.transaction().execute(async (trx) => {
    const user = await trx
      .insertInto('users')
      .values({ name: 'admin', display_name: 'Administrator', is_admin: true })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!user) return false;
    await trx
      .insertInto('api_tokens')
      .values({
        user_id: user.id,
        name: 'first-run admin token',
        token_hash: hashTokenSecret(token),
        scopes: [...API_TOKEN_SCOPES],
      })
      .execute();
    const project = await trx
      .selectFrom('projects')
      .select('id')
      .where('name', '=', 'default')
      .executeTakeFirst();
    if (project) {
      await trx
        .insertInto('project_members')
        .values({ project_id: project.id, user_id: user.id, role: 'admin' })
        .execute();
    }
    return true;
  });
  if (!created) return null;
  fs.mkdirSync(dataDir, { recursive: true });
  const tokenFile = path.join(dataDir, ADMIN_TOKEN_FILE);
  fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  return { userName: 'admin', token, tokenFile };
}
