import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// A Postgres cluster of the test's own, so it can be stopped and started under a running farm
// without disturbing the shared server other tests use. The server refuses to run as root, so as
// root its tools run as the `postgres` OS user, in a folder that user owns.

/** A private Postgres cluster on 127.0.0.1. */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  readonly port: number;
  /** Its server log. */
  readonly logFile: string;
  /** `pg_ctl stop -m fast`: every session is ended at once, as in a failover or a restart. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server (immediate) and deletes the cluster. */
  destroy(): Promise<void>;
}

/** Where `initdb` and `pg_ctl` are: /usr/local/bin, then Debian's versioned folders, newest first. */
function toolDirs(): string[] {
  const debian = '/usr/lib/postgresql';
  const versions = fs.existsSync(debian)
    ? fs
        .readdirSync(debian)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return ['/usr/local/bin', ...versions.map((version) => path.join(debian, version, 'bin'))];
}

/** The path of a Postgres server tool, or undefined when this machine has none. */
export function findPostgresTool(name: 'initdb' | 'pg_ctl'): string | undefined {
  for (const dir of toolDirs()) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

function tool(name: 'initdb' | 'pg_ctl'): string {
  const found = findPostgresTool(name);
  if (!found) throw new Error(`${name} is not installed`);
  return found;
}

async function asPostgres(args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const [file, ...rest] = asRoot ? ['runuser', '-u', 'postgres', '--', ...args] : args;
  await run(file!, rest, { timeout: 60_000 });
}

/** Makes a cluster with `initdb` (trust auth, no fsync: it is thrown away) and starts it. */
export async function startPrivatePostgres(port: number): Promise<PrivatePostgres> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-chaos-pg-'));
  const dataDir = path.join(root, 'data');
  const logFile = path.join(root, 'server.log');
  if (process.getuid?.() === 0) await run('chown', ['-R', 'postgres:', root]);
  await asPostgres([tool('initdb'), '-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const options = [
    `-p ${port}`,
    `-k ${root}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=100',
  ].join(' ');
  const start = () =>
    asPostgres([tool('pg_ctl'), '-D', dataDir, '-l', logFile, '-o', options, '-w', 'start']);
  const stopWith = (mode: 'fast' | 'immediate') =>
    asPostgres([tool('pg_ctl'), '-D', dataDir, '-m', mode, '-w', 'stop']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    logFile,
    stop: () => stopWith('fast'),
    start,
    async destroy() {
      await stopWith('immediate').catch(() => undefined);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
