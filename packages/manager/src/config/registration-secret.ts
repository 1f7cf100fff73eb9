import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The file in the data folder that keeps a generated registration secret. */
export const REGISTRATION_SECRET_FILE = 'registration-secret';

/** Where the registration secret came from. */
export type RegistrationSecretSource = 'config' | 'file' | 'generated';

/**
 * The secret workers register with: the configured one, else the one generated on an earlier run
 * (`<dataDir>/registration-secret`), else a new one written there with mode 0600. The caller prints
 * a `generated` secret once, so the admin can give it to workers.
 */
export function loadOrCreateRegistrationSecret(options: {
  dataDir: string;
  configured: string | undefined;
}): { secret: string; source: RegistrationSecretSource; file?: string } {
  if (options.configured) return { secret: options.configured, source: 'config' };
  const file = path.join(options.dataDir, REGISTRATION_SECRET_FILE);
  try {
    const secret = fs.readFileSync(file, 'utf8').trim();
    if (secret) return { secret, source: 'file', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(24).toString('base64url');
  fs.mkdirSync(options.dataDir, { recursive: true });
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return { secret, source: 'generated', file };
}
