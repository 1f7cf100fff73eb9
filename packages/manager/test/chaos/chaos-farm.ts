import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

// Real processes for the chaos suite: the built manager and workers (`npx tsc -b` first), each
// in a process group of its own so `kill -9` takes its commands' processes with it, as when a
// machine dies.

// FARM_CHAOS_BUILD points at another checkout's build (a snapshot made while others edit).
const ROOT = process.env.FARM_CHAOS_BUILD ?? path.join(__dirname, '../../../..');
export const MANAGER_MAIN = path.join(ROOT, 'packages/manager/dist/main.js');
export const WORKER_MAIN = path.join(ROOT, 'packages/worker/dist/main.js');

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(everyMs);
  }
  throw new Error(
    `timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
  );
}

/** The pids of every process under `root` (Linux `/proc`), parents before children. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name (field 2) may hold spaces; the parent pid follows its closing paren.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

/** A child process in its own group, output appended to `logFile`. */
export interface FarmProcess {
  readonly child: ChildProcess;
  /** kill -9 of the whole process group. */
  kill9(): void;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

export function startProcess(
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv = {},
): FarmProcess {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  fs.closeSync(out);
  child.unref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  return {
    child,
    kill9: () => {
      // Commands may run in process groups of their own: kill the whole tree, as a dying
      // machine would, children first so none is re-parented and survives.
      for (const pid of descendants(child.pid!).reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      signalGroup('SIGKILL');
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      signalGroup('SIGKILL');
    },
  };
}

/** Calls the manager's API as the first admin. */
export async function api<T = any>(
  baseUrl: string,
  token: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/**
 * A job type whose tasks each run one shell command that appends `start <task> <pid> <ns>` and,
 * after sleeping, `end <task> <pid> <ns>` to a record file: the record shows every execution of
 * every task, on whichever worker, so overlaps and lost results can be found afterwards.
 */
export const RECORDING_JOB_TYPE = `
const JOB_TYPE = {
  label: 'Chaos recorder',
  settings: [
    { key: 'tasks', type: 'int32', default: 6 },
    { key: 'seconds', type: 'float', default: 2 },
    { key: 'record', type: 'string', required: true },
  ],
};

function compileJob(job) {
  const s = job.settings;
  for (let i = 0; i < s.tasks; i++) {
    const name = 'task-' + i;
    // A stop (SIGTERM from the worker) is recorded too; only kill -9 leaves no trace.
    // A worker started with CHAOS_BROKEN set fails every task at once.
    const script =
      'if [ -n "$CHAOS_BROKEN" ]; then echo "crash ' + name + ' $$" >> ' + s.record + '; exit 3; fi; ' +
      'trap \\'echo "stop ' + name + ' $$ $(date +%s%N)" >> ' + s.record +
      '; kill $! 2>/dev/null; exit 143\\' TERM INT; ' +
      'echo "start ' + name + ' $$ $(date +%s%N)" >> ' + s.record +
      '; sleep ' + s.seconds + ' & wait $!' +
      '; echo "end ' + name + ' $$ $(date +%s%N)" >> ' + s.record;
    const task = author.Task(name, 'misc');
    task.addCommand(author.Command('exec', { exe: 'sh', args: ['-c', script] }));
    job.addTask(task);
  }
}
`;

/** One execution of a task, from the record file. */
export interface Execution {
  task: string;
  pid: string;
  startNs: bigint;
  /** Undefined when the process was killed before it ended. */
  endNs?: bigint;
  /** When the worker stopped it (SIGTERM) before it ended. */
  stopNs?: bigint;
}

export function readExecutions(recordFile: string): Execution[] {
  if (!fs.existsSync(recordFile)) return [];
  const byKey = new Map<string, Execution>();
  for (const line of fs.readFileSync(recordFile, 'utf8').split('\n')) {
    const [kind, task, pid, ns] = line.trim().split(' ');
    if (!kind || !task || !pid || !ns) continue;
    const key = `${task}/${pid}`;
    if (kind === 'start') byKey.set(key, { task, pid, startNs: BigInt(ns) });
    else if (kind === 'end' && byKey.has(key)) byKey.get(key)!.endNs = BigInt(ns);
    else if (kind === 'stop' && byKey.has(key)) byKey.get(key)!.stopNs = BigInt(ns);
  }
  return [...byKey.values()];
}

/**
 * Pairs of executions of one task that overlapped in time. An execution that never ended was
 * killed; it counts as running until `killedAtNs` (when its worker was killed).
 */
export function overlappingExecutions(executions: Execution[], killedAtNs: bigint[]): string[] {
  const problems: string[] = [];
  const byTask = new Map<string, Execution[]>();
  for (const e of executions) byTask.set(e.task, [...(byTask.get(e.task) ?? []), e]);
  for (const [task, list] of byTask) {
    list.sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1]!;
      const end =
        previous.endNs ??
        previous.stopNs ??
        killedAtNs.find((at) => at >= previous.startNs) ??
        BigInt(Number.MAX_SAFE_INTEGER) * 1_000_000n;
      if (list[i]!.startNs < end)
        problems.push(`${task} ran twice at once (pids ${previous.pid}, ${list[i]!.pid})`);
    }
  }
  return problems;
}

/** `process.hrtime`-free wall clock in ns, comparable with `date +%s%N`. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** A TCP proxy in front of several managers, as a load balancer would be. */
export interface FailoverProxy {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Forwards each connection to the first of `backendPorts` that accepts it: while the first
 * manager lives everything goes there; once it is dead, new connections go to the next. Open
 * connections to a backend that dies are closed, so clients reconnect (and land on a survivor).
 */
export function startFailoverProxy(port: number, backendPorts: number[]): Promise<FailoverProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.pause();
    let upstream: net.Socket | undefined;
    client.on('error', () => upstream?.destroy());
    client.on('close', () => {
      sockets.delete(client);
      upstream?.destroy();
    });
    const tryBackend = (index: number) => {
      if (client.destroyed) return;
      if (index >= backendPorts.length) {
        client.destroy();
        return;
      }
      const next = net.connect(backendPorts[index]!, '127.0.0.1');
      sockets.add(next);
      let connected = false;
      next.once('connect', () => {
        connected = true;
        upstream = next;
        client.pipe(next);
        next.pipe(client);
        client.resume();
      });
      next.on('error', () => {
        if (!connected) tryBackend(index + 1);
      });
      next.on('close', () => {
        sockets.delete(next);
        if (connected) client.destroy();
      });
    };
    tryBackend(0);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

/** Sends `signal` to a process and everything under it (a frozen or resumed machine). */
export function signalTree(rootPid: number, signal: NodeJS.Signals): number[] {
  const pids = [rootPid, ...descendants(rootPid)];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
  return pids;
}
