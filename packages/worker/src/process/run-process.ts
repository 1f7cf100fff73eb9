import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { FarmError } from '@farm/core';
import { createLineSplitter } from './line-splitter';
import { processGroupAlive } from './process-group';

export interface RunProcessOptions {
  /** Program to run: a path, or a name looked up on `PATH`. Never run through a shell. */
  exe: string;
  args?: readonly string[];
  cwd?: string;
  /** Variables added to (or, when `undefined`, removed from) the worker's own environment. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Receives every output line, stdout and stderr merged, in the order they arrive. */
  onLine: (line: string) => void;
  /** Aborting it stops the process and everything it started. */
  signal: AbortSignal;
  /** Time between SIGTERM and SIGKILL when the process is stopped. */
  killGraceMs?: number;
  /** The variable that names this program (such as `blender`), to say what to fix when it is missing. */
  exeVariable?: string;
  onSpawn?: (pid: number) => void;
}

export interface RunProcessResult {
  /** The exit code, or null when the process was ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  pid: number;
  /** True when the run was stopped through `options.signal`. */
  aborted: boolean;
}

const DEFAULT_KILL_GRACE_MS = 5000;
// After the main process has exited, how long to wait beyond the kill grace for output pipes
// that a process outside our process group may be holding open.
const CLOSE_SLACK_MS = 1000;
const GROUP_POLL_MS = 50;

/**
 * Runs a program directly (no shell) in its own process group, streaming its output line by
 * line. Aborting `signal` sends SIGTERM to the whole process group and SIGKILL after
 * `killGraceMs`; the promise settles only once the process tree is gone. When the main process
 * exits by itself, whatever it left running in its group is stopped the same way: a task must not
 * leave stray processes behind on the worker.
 *
 * @throws FarmError `not_found` when the program or the working directory does not exist.
 */
export async function runProcess(options: RunProcessOptions): Promise<RunProcessResult> {
  const { exe, args = [], cwd, signal, onLine } = options;
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  signal.throwIfAborted();
  if (cwd !== undefined) await assertDirectory(cwd);
  signal.throwIfAborted();

  return new Promise<RunProcessResult>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(exe, [...args], {
        cwd,
        env: mergeEnv(options.env),
        // Own process group on POSIX, so one kill(-pgid) reaches every descendant.
        detached: process.platform !== 'win32',
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (error) {
      reject(spawnError(exe, error, options.exeVariable));
      return;
    }

    const stdout = createLineSplitter(onLine);
    const stderr = createLineSplitter(onLine);
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

    let spawned = false;
    let exited = false;
    let settled = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let terminating = false;
    let killTimer: NodeJS.Timeout | undefined;
    let closeTimer: NodeJS.Timeout | undefined;
    let pollTimer: NodeJS.Timeout | undefined;
    let closed = false;

    const pid = (): number => child.pid ?? -1;

    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      clearTimeout(closeTimer);
      clearInterval(pollTimer);
      signal.removeEventListener('abort', terminate);
      stdout.end();
      stderr.end();
      resolve({ exitCode, signal: exitSignal, pid: pid(), aborted: signal.aborted });
    };

    function terminate(): void {
      if (terminating || !spawned) return;
      terminating = true;
      killTree(child, 'SIGTERM');
      killTimer = setTimeout(() => {
        killTimer = undefined;
        killTree(child, 'SIGKILL');
        if (closed) settle();
      }, killGraceMs);
    }

    child.once('spawn', () => {
      spawned = true;
      options.onSpawn?.(pid());
      if (signal.aborted) terminate();
    });

    child.once('error', (error) => {
      if (spawned) return; // a failed kill; the exit and close events still come
      settled = true;
      signal.removeEventListener('abort', terminate);
      reject(spawnError(exe, error, options.exeVariable));
    });

    child.once('exit', (code, sig) => {
      exited = true;
      exitCode = code;
      exitSignal = sig;
      if (groupAlive(child)) terminate();
      closeTimer = setTimeout(() => {
        // Someone outside the group holds our pipes; stop waiting for them.
        child.stdout?.destroy();
        child.stderr?.destroy();
        settle();
      }, killGraceMs + CLOSE_SLACK_MS);
    });

    child.once('close', () => {
      closed = true;
      if (!exited || settled) return;
      // Processes that got SIGTERM and do not hold our pipes get the rest of their grace.
      if (killTimer !== undefined && groupAlive(child)) {
        pollTimer = setInterval(() => {
          if (!groupAlive(child)) settle();
        }, GROUP_POLL_MS);
        return;
      }
      settle();
    });

    signal.addEventListener('abort', terminate, { once: true });
  });
}

function mergeEnv(extra: RunProcessOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

async function assertDirectory(cwd: string): Promise<void> {
  const info = await stat(cwd).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new FarmError('not_found', `working directory ${cwd} does not exist`);
  }
}

function spawnError(exe: string, error: unknown, exeVariable: string | undefined): FarmError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    const fix = exeVariable
      ? `install it or set the {${exeVariable}} variable`
      : 'check the path, or install it';
    return new FarmError('not_found', `${exe} not found: ${fix}`, { cause: error });
  }
  if (code === 'EACCES') {
    return new FarmError('forbidden', `${exe} cannot be run: it is not executable`, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new FarmError('internal', `cannot start ${exe}: ${message}`, { cause: error });
}

function groupAlive(child: ChildProcess): boolean {
  if (process.platform === 'win32' || child.pid === undefined) return false;
  return processGroupAlive(child.pid);
}

function killTree(child: ChildProcess, sig: 'SIGTERM' | 'SIGKILL'): void {
  if (child.pid === undefined) return;
  if (process.platform === 'win32') {
    // Windows has no process groups or SIGTERM: taskkill /T ends the tree, /F does it at once.
    spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { windowsHide: true }).on(
      'error',
      () => undefined,
    );
    return;
  }
  try {
    process.kill(-child.pid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}
