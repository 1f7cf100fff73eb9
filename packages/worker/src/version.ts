import { readFileSync } from 'node:fs';
import path from 'node:path';

/** This worker's software version, from its package.json. */
export const WORKER_VERSION: string = readVersion();

function readVersion(): string {
  try {
    // src/ in tests, dist/ when built: package.json is one level up either way.
    const text = readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' && version !== '' ? version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
