import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../src/commands';
import { createRecordingContext } from '../fixtures/command-context';
import { makeTempDir } from '../fixtures/processes';

describe('file commands', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('files');
  });

  describe('make-directory', () => {
    it('creates nested folders, and accepts one that exists', async () => {
      const ctx = createRecordingContext(dir);
      const target = path.join(dir, 'a/b/c');
      await runCommand({ name: 'make-directory', parameters: { path: target } }, ctx);
      expect(statSync(target).isDirectory()).toBe(true);
      await runCommand({ name: 'make-directory', parameters: { path: target } }, ctx);
      expect(ctx.lines).toEqual([
        `make-directory: created ${target}`,
        `make-directory: ${target} already exists`,
      ]);
    });
  });

  describe('move-directory', () => {
    it('moves a folder with its content', async () => {
      mkdirSync(path.join(dir, 'src/sub'), { recursive: true });
      writeFileSync(path.join(dir, 'src/sub/f.txt'), 'content');
      const ctx = createRecordingContext(dir);
      await runCommand(
        {
          name: 'move-directory',
          parameters: { src: path.join(dir, 'src'), dest: path.join(dir, 'out/dest') },
        },
        ctx,
      );
      expect(existsSync(path.join(dir, 'src'))).toBe(false);
      expect(readFileSync(path.join(dir, 'out/dest/sub/f.txt'), 'utf8')).toBe('content');
    });

    it('moves an existing destination aside, named after its mtime, with -001 when taken', async () => {
      const dest = path.join(dir, 'dest');
      const mtime = new Date(2024, 2, 5, 7, 8, 9); // local time, like the name
      const make = (name: string, content: string): void => {
        mkdirSync(path.join(dir, name), { recursive: true });
        writeFileSync(path.join(dir, name, 'f.txt'), content);
      };
      make('dest', 'old');
      utimesSync(dest, mtime, mtime);
      make('dest-2024-03-05_070809', 'older');
      make('src', 'new');
      const ctx = createRecordingContext(dir);
      await runCommand(
        { name: 'move-directory', parameters: { src: path.join(dir, 'src'), dest } },
        ctx,
      );
      expect(readdirSync(dir).sort()).toEqual([
        'dest',
        'dest-2024-03-05_070809',
        'dest-2024-03-05_070809-001',
      ]);
      expect(readFileSync(path.join(dest, 'f.txt'), 'utf8')).toBe('new');
      expect(readFileSync(path.join(dir, 'dest-2024-03-05_070809-001/f.txt'), 'utf8')).toBe('old');
      expect(readFileSync(path.join(dir, 'dest-2024-03-05_070809/f.txt'), 'utf8')).toBe('older');
      expect(ctx.lines[0]).toContain('moving it aside to');
    });

    it('refuses a missing source and a move into itself', async () => {
      const ctx = createRecordingContext(dir);
      await expect(
        runCommand(
          {
            name: 'move-directory',
            parameters: { src: path.join(dir, 'nope'), dest: path.join(dir, 'x') },
          },
          ctx,
        ),
      ).rejects.toMatchObject({
        code: 'not_found',
        message: expect.stringContaining('does not exist'),
      });
      mkdirSync(path.join(dir, 'a'));
      await expect(
        runCommand(
          {
            name: 'move-directory',
            parameters: { src: path.join(dir, 'a'), dest: path.join(dir, 'a/b') },
          },
          ctx,
        ),
      ).rejects.toMatchObject({ code: 'bad_request' });
    });

    const shm = '/dev/shm';
    const crossDevice = existsSync(shm) && statSync(shm).dev !== statSync(os.tmpdir()).dev;
    if (!crossDevice)
      console.warn(
        'move-directory across file systems: skipped, /dev/shm is not a separate file system',
      );
    (crossDevice ? it : it.skip)('works across file systems (copy, then delete)', async () => {
      const src = mkdtempSync(path.join(shm, 'farm-move-'));
      mkdirSync(path.join(src, 'frames'));
      writeFileSync(path.join(src, 'frames/0001.png'), 'png');
      const ctx = createRecordingContext(dir);
      const dest = path.join(dir, 'moved');
      await runCommand({ name: 'move-directory', parameters: { src, dest } }, ctx);
      expect(existsSync(src)).toBe(false);
      expect(readFileSync(path.join(dest, 'frames/0001.png'), 'utf8')).toBe('png');
      expect(ctx.lines.some((l) => l.includes('different file systems'))).toBe(true);
    });
  });

  describe('copy-file', () => {
    it('copies to a new path, creating folders, and never overwrites', async () => {
      const src = path.join(dir, 'a.txt');
      const dest = path.join(dir, 'deep/er/b.txt');
      writeFileSync(src, 'hello');
      const ctx = createRecordingContext(dir);
      await runCommand({ name: 'copy-file', parameters: { src, dest } }, ctx);
      expect(readFileSync(dest, 'utf8')).toBe('hello');
      writeFileSync(src, 'changed');
      await expect(
        runCommand({ name: 'copy-file', parameters: { src, dest } }, ctx),
      ).rejects.toMatchObject({
        code: 'conflict',
        message: `copy-file: ${dest} already exists`,
      });
      expect(readFileSync(dest, 'utf8')).toBe('hello');
    });

    it('needs absolute paths and an existing source file', async () => {
      const ctx = createRecordingContext(dir);
      await expect(
        runCommand(
          { name: 'copy-file', parameters: { src: 'a.txt', dest: path.join(dir, 'b') } },
          ctx,
        ),
      ).rejects.toMatchObject({
        code: 'validation_failed',
        message: expect.stringContaining('absolute'),
      });
      await expect(
        runCommand(
          {
            name: 'copy-file',
            parameters: { src: path.join(dir, 'none'), dest: path.join(dir, 'b') },
          },
          ctx,
        ),
      ).rejects.toMatchObject({ code: 'not_found' });
    });
  });

  describe('delete-path', () => {
    it('deletes a folder tree and a file; a missing path is fine', async () => {
      mkdirSync(path.join(dir, 'tree/sub'), { recursive: true });
      writeFileSync(path.join(dir, 'tree/sub/f'), 'x');
      writeFileSync(path.join(dir, 'file'), 'x');
      const ctx = createRecordingContext(dir);
      await runCommand({ name: 'delete-path', parameters: { path: path.join(dir, 'tree') } }, ctx);
      await runCommand({ name: 'delete-path', parameters: { path: path.join(dir, 'file') } }, ctx);
      await runCommand({ name: 'delete-path', parameters: { path: path.join(dir, 'gone') } }, ctx);
      expect(readdirSync(dir)).toEqual([]);
      expect(ctx.lines.at(-1)).toContain('does not exist, nothing to delete');
    });

    it.each([
      ['/', 'forbidden'],
      ['/tmp/../..', 'forbidden'],
      [os.homedir(), 'forbidden'],
      [path.dirname(os.homedir()), 'forbidden'],
      ['relative/path', 'validation_failed'],
    ])('refuses %s', async (target, code) => {
      const ctx = createRecordingContext(dir);
      await expect(
        runCommand({ name: 'delete-path', parameters: { path: target } }, ctx),
      ).rejects.toMatchObject({
        code,
      });
      expect(existsSync(os.homedir())).toBe(true);
    });
  });

  describe('exec', () => {
    it('runs a program directly with args, env and cwd, logging the command line', async () => {
      const command = {
        name: 'exec',
        parameters: {
          exe: '/bin/sh',
          args: ['-c', 'echo "$1 $GREETING"; pwd; echo oops >&2', 'sh', 'a; b'],
          env: { GREETING: 'hello' },
          cwd: 'sub',
        },
      };
      await expect(runCommand(command, createRecordingContext(dir))).rejects.toMatchObject({
        code: 'not_found',
        message: `working directory ${path.join(dir, 'sub')} does not exist`,
      });
      mkdirSync(path.join(dir, 'sub'));
      const ctx = createRecordingContext(dir);
      await runCommand(command, ctx);
      expect(ctx.lines).toEqual([
        `going to run: /bin/sh -c 'echo "$1 $GREETING"; pwd; echo oops >&2' sh 'a; b'`,
        'a; b hello',
        path.join(dir, 'sub'),
        'oops',
      ]);
    });

    it('fails with the exit code', async () => {
      const ctx = createRecordingContext(dir);
      await expect(
        runCommand(
          { name: 'exec', parameters: { exe: '/bin/sh', args: ['-c', 'echo bad; exit 4'] } },
          ctx,
        ),
      ).rejects.toMatchObject({ message: '/bin/sh exited with code 4', details: { exitCode: 4 } });
      expect(ctx.lines).toContain('bad');
    });

    it('stops the program and its children when the task is stopped', async () => {
      const ctx = createRecordingContext(dir);
      const running = runCommand(
        {
          name: 'exec',
          parameters: { exe: '/bin/sh', args: ['-c', 'sleep 60 & echo "started $!"; wait'] },
        },
        ctx,
      );
      let startedLine: string | undefined;
      while (!(startedLine = ctx.lines.find((line) => line.startsWith('started ')))) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const childPid = Number(startedLine.split(' ')[1]);
      const started = Date.now();
      ctx.controller.abort(new Error('task canceled'));
      await expect(running).rejects.toThrow('task canceled');
      expect(Date.now() - started).toBeLessThan(1000);
      // The grandchild is gone (or a zombie: this machine's init does not reap orphans).
      expect(processState(childPid)).toMatch(/^(gone|Z)$/);
    });
  });

  describe('echo and sleep', () => {
    it('echo logs its message', async () => {
      const ctx = createRecordingContext(dir);
      await runCommand({ name: 'echo', parameters: { message: 'Hello farm' } }, ctx);
      expect(ctx.lines).toEqual(['echo: Hello farm']);
    });

    it('sleep waits fractional seconds without truncating them', async () => {
      const ctx = createRecordingContext(dir);
      const started = Date.now();
      await runCommand({ name: 'sleep', parameters: { duration_in_seconds: 0.3 } }, ctx);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(ctx.lines).toEqual(['sleep: sleeping for 0.3s', 'sleep: slept 0.3s']);
    });

    it('sleep stops at once when the task is stopped', async () => {
      const ctx = createRecordingContext(dir);
      const sleeping = runCommand({ name: 'sleep', parameters: { duration_in_seconds: 30 } }, ctx);
      setTimeout(() => ctx.controller.abort(new Error('stop')), 100);
      const started = Date.now();
      await expect(sleeping).rejects.toThrow('stop');
      expect(Date.now() - started).toBeLessThan(500);
      expect(ctx.lines).toEqual(['sleep: sleeping for 30s']);
    });
  });

  describe('validation', () => {
    it('lists every problem before running anything', async () => {
      const ctx = createRecordingContext(dir);
      const error: unknown = await runCommand(
        { name: 'frames-to-video', parameters: { exe: '', fps: -1, inputGlob: 3, extra: true } },
        ctx,
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'validation_failed' });
      const { issues, message } = error as { issues: { path: string }[]; message: string };
      expect(issues.map((i) => i.path).sort()).toEqual(
        [
          'parameters.exe',
          'parameters.extra',
          'parameters.fps',
          'parameters.inputGlob',
          'parameters.outputFile',
        ].sort(),
      );
      expect(message).toContain('parameters.outputFile is required');
      expect(ctx.lines).toEqual([]);
    });

    it('refuses an unknown command', async () => {
      await expect(
        runCommand({ name: 'format-disk', parameters: {} }, createRecordingContext(dir)),
      ).rejects.toMatchObject({
        code: 'validation_failed',
        message: expect.stringContaining('format-disk'),
      });
    });
  });
});

function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? 'gone';
  } catch {
    return 'gone';
  }
}
