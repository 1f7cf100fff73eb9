import { PGlite } from '@electric-sql/pglite';
import { FarmError } from '@farm/core';
import { Kysely } from 'kysely';
import fs from 'node:fs';
import path from 'node:path';
import { Mutex } from './mutex';
import { PGliteDialect } from './pglite-dialect';
import type { Database } from './tables';

export interface OpenedPGlite {
  db: Kysely<Database>;
  pglite: PGlite;
  mutex: Mutex;
  /** Removes the data folder's lock file; call after the database is closed. */
  unlock: () => void;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// PGlite does not lock its folder, and two processes writing one folder corrupt it. A pid file
// turns that into a clear refusal; a lock left by a dead process is taken over.
function lockDataFolder(folder: string): () => void {
  const lockPath = `${folder}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(fs.readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) {
        throw new FarmError(
          'unavailable',
          `the embedded database in ${folder} is in use by process ${pid}; stop it first, or set ` +
            `DATABASE_URL to share a Postgres server between managers`,
        );
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new FarmError('unavailable', `cannot lock the embedded database in ${folder}`);
}

/** Opens (creating on first use, which takes several seconds) the PGlite database in `folder`. */
export async function openPGlite(folder: string): Promise<OpenedPGlite> {
  fs.mkdirSync(path.dirname(folder), { recursive: true });
  const unlock = lockDataFolder(folder);
  try {
    const pglite = await PGlite.create(folder);
    const mutex = new Mutex();
    const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite, mutex }) });
    return { db, pglite, mutex, unlock };
  } catch (error) {
    unlock();
    throw new FarmError(
      'unavailable',
      `cannot open the embedded database in ${folder}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
