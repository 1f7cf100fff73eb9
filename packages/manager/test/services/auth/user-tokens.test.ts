import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  authenticateUserToken,
  ensureFirstAdmin,
  hashTokenSecret,
} from '../../../src/services/auth';
import { describeEachDatabase } from '../../support/test-database';

describeEachDatabase(
  'first admin and user tokens',
  (getDb) => {
    let dataDir: string;
    beforeEach(() => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-auth-'));
    });
    afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

    it('creates an admin once, with a token that works and a 0600 token file', async () => {
      const { db } = getDb();
      const first = await ensureFirstAdmin(db, dataDir);
      expect(first).not.toBeNull();
      expect(fs.readFileSync(first!.tokenFile, 'utf8').trim()).toBe(first!.token);
      expect(fs.statSync(first!.tokenFile).mode & 0o777).toBe(0o600);

      const principal = await authenticateUserToken(db, first!.token);
      expect(principal).toMatchObject({ kind: 'user', name: 'admin', isAdmin: true });
      expect(principal!.scopes).toContain('jobs:write');

      expect(await ensureFirstAdmin(db, dataDir)).toBeNull();
      const users = await db.selectFrom('users').select('name').execute();
      expect(users).toEqual([{ name: 'admin' }]);
    });

    it('stores only the hash of the token', async () => {
      const { db } = getDb();
      const first = await ensureFirstAdmin(db, dataDir);
      const rows = await db.selectFrom('api_tokens').select('token_hash').execute();
      expect(rows).toEqual([{ token_hash: hashTokenSecret(first!.token) }]);
      expect(JSON.stringify(rows)).not.toContain(first!.token);
    });

    it('refuses unknown, revoked and expired tokens and disabled users', async () => {
      const { db } = getDb();
      const first = await ensureFirstAdmin(db, dataDir);
      expect(await authenticateUserToken(db, 'farm_u_not-a-real-token')).toBeNull();
      expect(await authenticateUserToken(db, 'no-prefix')).toBeNull();

      await db
        .updateTable('api_tokens')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .execute();
      expect(await authenticateUserToken(db, first!.token)).toBeNull();

      await db
        .updateTable('api_tokens')
        .set({ expires_at: null, revoked_at: new Date() })
        .execute();
      expect(await authenticateUserToken(db, first!.token)).toBeNull();

      await db.updateTable('api_tokens').set({ revoked_at: null }).execute();
      await db.updateTable('users').set({ disabled_at: new Date() }).execute();
      expect(await authenticateUserToken(db, first!.token)).toBeNull();
    });

    it('records when a token was last used', async () => {
      const { db } = getDb();
      const first = await ensureFirstAdmin(db, dataDir);
      await authenticateUserToken(db, first!.token);
      const row = await db
        .selectFrom('api_tokens')
        .select('last_used_at')
        .executeTakeFirstOrThrow();
      expect(row.last_used_at).toBeInstanceOf(Date);
    });
  },
  { resetBetweenTests: true },
);
