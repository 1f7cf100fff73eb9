import { mkdir, readFile, rename, rm, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';

/** What a worker keeps after registering: its id and token for one manager. */
export interface WorkerCredentials {
  managerUrl: string;
  workerId: string;
  token: string;
}

export const CREDENTIALS_FILE = 'credentials.json';

/** The stored credentials, or undefined when there are none (or the file is unreadable). */
export async function loadCredentials(dataDir: string): Promise<WorkerCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, CREDENTIALS_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<WorkerCredentials>;
    if (
      typeof value.managerUrl === 'string' &&
      typeof value.workerId === 'string' &&
      typeof value.token === 'string'
    )
      return { managerUrl: value.managerUrl, workerId: value.workerId, token: value.token };
  } catch {
    // A damaged file is as good as none: the worker registers again.
  }
  return undefined;
}

/**
 * Stores credentials readable by the owner only (mode 0600): the token is all it takes to act as
 * this worker. Written to a temporary file and renamed, so a crash never leaves half a file.
 */
export async function saveCredentials(
  dataDir: string,
  credentials: WorkerCredentials,
): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, CREDENTIALS_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  // The mode given to writeFile is masked by the umask; make sure.
  await chmod(temp, 0o600);
  await rename(temp, file);
}

/** Forgets the credentials (the manager no longer accepts them). */
export async function deleteCredentials(dataDir: string): Promise<void> {
  await rm(path.join(dataDir, CREDENTIALS_FILE), { force: true });
}
