import { isFarmError } from '@farm/core';
import { runProcess } from '../../src/process';
import { isRunning, makeTempDir, waitFor } from '../fixtures/processes';

function collect(): { lines: string[]; onLine(line: string): void } {
  const lines: string[] = [];
  return { lines, onLine: (line) => lines.push(line) };
}

describe('runProcess', () => {
  it('streams every line in order and flushes a partial last line', async () => {
    const out = collect();
    const result = await runProcess({
      exe: 'sh',
      args: ['-c', 'for i in $(seq 1 500); do echo "line $i"; done; printf "no newline"'],
      onLine: out.onLine,
      signal: new AbortController().signal,
    });
    expect(result).toMatchObject({ exitCode: 0, signal: null, aborted: false });
    expect(out.lines).toEqual([
      ...Array.from({ length: 500 }, (_, i) => `line ${i + 1}`),
      'no newline',
    ]);
  });

  it('merges stderr into the same line stream', async () => {
    const out = collect();
    await runProcess({
      exe: 'sh',
      args: ['-c', 'echo out; sleep 0.1; echo err >&2; sleep 0.1; echo out2'],
      onLine: out.onLine,
      signal: new AbortController().signal,
    });
    expect(out.lines).toEqual(['out', 'err', 'out2']);
  });

  it('passes arguments without a shell, and applies env and cwd', async () => {
    const dir = makeTempDir('cwd');
    const out = collect();
    await runProcess({
      exe: 'sh',
      args: ['-c', 'echo "$1|$FARM_TEST_VAR|$(pwd)"', 'sh', '$HOME; `rm -rf /` *'],
      cwd: dir,
      env: { FARM_TEST_VAR: 'from env' },
      onLine: out.onLine,
      signal: new AbortController().signal,
    });
    expect(out.lines).toEqual([`$HOME; \`rm -rf /\` *|from env|${dir}`]);
  });

  it('reports exit codes and deaths by signal', async () => {
    const signal = new AbortController().signal;
    const onLine = (): void => undefined;
    await expect(
      runProcess({ exe: 'sh', args: ['-c', 'exit 3'], onLine, signal }),
    ).resolves.toMatchObject({ exitCode: 3, signal: null });
    await expect(
      runProcess({ exe: 'sh', args: ['-c', 'kill -KILL $$'], onLine, signal }),
    ).resolves.toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  it('says clearly when the program is missing', async () => {
    const error: unknown = await runProcess({
      exe: 'farm-no-such-blender',
      exeVariable: 'blender',
      onLine: () => undefined,
      signal: new AbortController().signal,
    }).catch((e: unknown) => e);
    expect(isFarmError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'not_found',
      message: 'farm-no-such-blender not found: install it or set the {blender} variable',
    });
    await expect(
      runProcess({
        exe: 'sh',
        cwd: '/no/such/dir',
        onLine: () => undefined,
        signal: new AbortController().signal,
      }),
    ).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('/no/such/dir'),
    });
  });

  it('kills the whole process tree on abort, well within the grace time', async () => {
    const controller = new AbortController();
    const out = collect();
    let leader = 0;
    const running = runProcess({
      exe: 'sh',
      args: ['-c', 'sleep 100 & echo "child $!"; sleep 100 & echo "child $!"; wait'],
      onLine: out.onLine,
      onSpawn: (pid) => (leader = pid),
      signal: controller.signal,
      killGraceMs: 3000,
    });
    await waitFor(() => out.lines.length === 2);
    const children = out.lines.map((l) => Number(l.split(' ')[1]));
    expect(children.every(isRunning)).toBe(true);
    expect(isRunning(leader)).toBe(true);

    const started = Date.now();
    controller.abort();
    const result = await running;
    const elapsedMs = Date.now() - started;

    expect(result.aborted).toBe(true);
    expect(result.signal).toBe('SIGTERM');
    expect(elapsedMs).toBeLessThan(1000);
    expect([leader, ...children].filter(isRunning)).toEqual([]);
  });

  it('escalates to SIGKILL for a tree that ignores SIGTERM', async () => {
    const controller = new AbortController();
    const out = collect();
    const running = runProcess({
      exe: 'sh',
      // An ignored signal stays ignored across exec, so the sleep ignores SIGTERM too.
      args: ['-c', 'trap "" TERM; sleep 100 & echo "child $!"; while :; do sleep 0.05; done'],
      onLine: out.onLine,
      signal: controller.signal,
      killGraceMs: 500,
    });
    await waitFor(() => out.lines.length === 1);
    const child = Number(out.lines[0]!.split(' ')[1]);
    const started = Date.now();
    controller.abort();
    const result = await running;
    const elapsedMs = Date.now() - started;

    expect(result.signal).toBe('SIGKILL');
    expect(elapsedMs).toBeGreaterThanOrEqual(450);
    expect(elapsedMs).toBeLessThan(2000);
    expect(isRunning(child)).toBe(false);
  });

  it('stops what the program left running when it exits by itself', async () => {
    const out = collect();
    const started = Date.now();
    const result = await runProcess({
      exe: 'sh',
      args: ['-c', 'sleep 100 & echo "child $!"'],
      onLine: out.onLine,
      signal: new AbortController().signal,
      killGraceMs: 3000,
    });
    expect(result.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(isRunning(Number(out.lines[0]!.split(' ')[1]))).toBe(false);
  });

  it('cuts a runaway line at 64 KiB with a marker and carries on', async () => {
    const out = collect();
    await runProcess({
      exe: 'sh',
      args: ['-c', "head -c 200000 /dev/zero | tr '\\0' a; echo; echo next"],
      onLine: out.onLine,
      signal: new AbortController().signal,
    });
    expect(out.lines).toHaveLength(2);
    expect(out.lines[0]!.startsWith('a'.repeat(65536) + ' [line cut: 200000 bytes')).toBe(true);
    expect(out.lines[1]).toBe('next');
  });

  it('does not start when already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('task canceled'));
    await expect(
      runProcess({
        exe: 'sh',
        args: ['-c', 'exit 0'],
        onLine: () => undefined,
        signal: controller.signal,
      }),
    ).rejects.toThrow('task canceled');
  });
});
