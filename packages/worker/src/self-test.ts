import { mkdir, mkdtemp, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand, type CommandContext, type CommandToRun } from './commands';
import { findProgram } from './find-program';

/** One line of the self-test table. */
export interface SelfTestCheck {
  name: string;
  ok: boolean;
  /** Whether a failure makes the worker unusable (storage, basic commands) or only limits it. */
  essential: boolean;
  detail: string;
}

export interface SelfTestResult {
  checks: SelfTestCheck[];
  /** True when every essential check passed. */
  ok: boolean;
}

export interface SelfTestOptions {
  /** Where the test job writes; a temporary folder inside it is removed afterwards. */
  workDir?: string;
  platform?: NodeJS.Platform;
  env?: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
  /** Each check's result as it finishes. */
  onCheck?: (check: SelfTestCheck) => void;
}

/**
 * `farm-worker --test`: runs every command against a tiny job in a temporary folder and reports
 * what works: storage, the file commands, running programs, FFmpeg (frames and a video) and
 * Blender when they are installed.
 */
export async function runSelfTest(options: SelfTestOptions = {}): Promise<SelfTestResult> {
  const platform = options.platform ?? process.platform;
  const env = options.env ?? process.env;
  const signal = options.signal ?? new AbortController().signal;
  const checks: SelfTestCheck[] = [];
  const add = (check: SelfTestCheck): void => {
    checks.push(check);
    options.onCheck?.(check);
  };
  const base = options.workDir ?? os.tmpdir();
  let dir: string;
  try {
    await mkdir(base, { recursive: true });
    dir = await mkdtemp(path.join(base, 'farm-self-test-'));
    await writeFile(path.join(dir, 'probe.txt'), 'farm\n');
    const free = await freeSpace(dir);
    add({ name: 'storage writable', ok: true, essential: true, detail: `${base} (${free} free)` });
  } catch (error) {
    add({
      name: 'storage writable',
      ok: false,
      essential: true,
      detail: `${base}: ${message(error)}`,
    });
    return { checks, ok: false };
  }

  const lines: string[] = [];
  const ctx: CommandContext = {
    log: (line) => lines.push(line),
    progress: () => undefined,
    outputProduced: () => undefined,
    signal,
    platform,
    workDir: dir,
    killGraceMs: 2000,
  };
  const tryCommand = async (
    name: string,
    essential: boolean,
    commands: CommandToRun[],
    verify?: () => string | undefined | Promise<string | undefined>,
    describeSuccess?: () => string,
  ): Promise<boolean> => {
    lines.length = 0;
    const started = Date.now();
    try {
      for (const command of commands) await runCommand(command, ctx);
      const problem = verify ? await verify() : undefined;
      if (problem !== undefined) throw new Error(problem);
      const took = `${Date.now() - started} ms`;
      add({
        name,
        ok: true,
        essential,
        detail: describeSuccess ? `${describeSuccess()}, ${took}` : took,
      });
      return true;
    } catch (error) {
      const tail = lines.slice(-3).join(' | ');
      add({ name, ok: false, essential, detail: message(error) + (tail ? ` (${tail})` : '') });
      return false;
    }
  };

  try {
    await tryCommand(
      'echo',
      true,
      [{ name: 'echo', parameters: { message: 'hello from the self-test' } }],
      () =>
        lines.some((l) => l.includes('hello from the self-test'))
          ? undefined
          : 'nothing was logged',
    );
    await tryCommand('sleep 0.1 s', true, [
      { name: 'sleep', parameters: { duration_in_seconds: 0.1 } },
    ]);
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    await tryCommand(
      'make, copy, move, delete',
      true,
      [
        { name: 'make-directory', parameters: { path: a } },
        {
          name: 'copy-file',
          parameters: { src: path.join(dir, 'probe.txt'), dest: path.join(a, 'copy.txt') },
        },
        { name: 'move-directory', parameters: { src: a, dest: b } },
        { name: 'delete-path', parameters: { path: b } },
      ],
      async () =>
        (await exists(b)) || (await exists(a))
          ? 'the folders were not moved and deleted'
          : undefined,
    );
    const exec =
      platform === 'win32'
        ? { exe: 'cmd', args: ['/c', 'exit', '0'] }
        : { exe: findProgram('true', env, platform) ?? 'true', args: [] };
    await tryCommand('exec (run a program)', true, [{ name: 'exec', parameters: exec }]);

    const ffmpeg = findProgram('ffmpeg', env, platform);
    if (ffmpeg === undefined) {
      add({
        name: 'FFmpeg',
        ok: false,
        essential: false,
        detail: 'not found on PATH: ffmpeg tasks cannot run here',
      });
    } else {
      const frames = path.join(dir, 'frames');
      const video = path.join(dir, 'video.mp4');
      await tryCommand(
        'FFmpeg: 3 frames and a video',
        false,
        [
          { name: 'make-directory', parameters: { path: frames } },
          {
            name: 'exec',
            parameters: {
              exe: ffmpeg,
              args: [
                '-hide_banner',
                '-loglevel',
                'error',
                '-f',
                'lavfi',
                '-i',
                'testsrc=size=64x48:rate=24',
                '-frames:v',
                '3',
                path.join(frames, 'frame-%04d.png'),
              ],
            },
          },
          {
            name: 'frames-to-video',
            parameters: {
              exe: ffmpeg,
              fps: 24,
              inputGlob: path.join(frames, '*.png'),
              outputFile: video,
              argsBefore: ['-hide_banner', '-loglevel', 'error', '-y'],
              args: ['-pix_fmt', 'yuv420p'],
            },
          },
        ],
        async () => {
          const made = (await readdir(frames)).filter((f) => f.endsWith('.png')).length;
          if (made !== 3) return `expected 3 frames, found ${made}`;
          return (await exists(video)) ? undefined : 'no video was written';
        },
      );
    }

    const blender = findProgram('blender', env, platform);
    if (blender === undefined) {
      add({
        name: 'Blender',
        ok: false,
        essential: false,
        detail: 'not found on PATH: blender tasks need the {blender} variable',
      });
    } else {
      let versionLine = '';
      await tryCommand(
        'Blender --version',
        false,
        [{ name: 'exec', parameters: { exe: blender, args: ['--version'] } }],
        () => {
          versionLine = lines.find((l) => /^Blender \d/.test(l))?.trim() ?? '';
          return versionLine === '' ? 'Blender printed no version' : undefined;
        },
        () => versionLine,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
  return { checks, ok: checks.every((c) => c.ok || !c.essential) };
}

/** The self-test result as a table for a terminal. */
export function formatSelfTestReport(result: SelfTestResult): string {
  const width = Math.max(...result.checks.map((c) => c.name.length), 5);
  const rows = result.checks.map((c) => {
    const mark = c.ok ? 'ok  ' : c.essential ? 'FAIL' : 'no  ';
    return `  ${mark}  ${c.name.padEnd(width)}  ${c.detail}`;
  });
  const verdict = result.ok
    ? 'The essentials work: this machine can be a Farm worker.'
    : 'Essential checks failed: fix them before running tasks here.';
  return `Farm worker self-test\n\n${rows.join('\n')}\n\n${verdict}\n`;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function freeSpace(dir: string): Promise<string> {
  try {
    const s = await statfs(dir);
    const bytes = Number(s.bavail) * Number(s.bsize);
    return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  } catch {
    return 'unknown space';
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
