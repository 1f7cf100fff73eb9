import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { buildBlenderCommand, runCommand } from '../../src/commands';
import { createRecordingContext } from '../fixtures/command-context';
import { findProgram, isRunning, makeTempDir } from '../fixtures/processes';

describe('buildBlenderCommand', () => {
  it('runs exe exeArgs argsBefore blendfile args, splitting exe and exeArgs like a shell', () => {
    expect(
      buildBlenderCommand({
        exe: '"/opt/my blender/blender" --factory-startup',
        exeArgs: "--python-expr 'print(1)'",
        argsBefore: ['-b'],
        blendfile: '/shots/a b.blend',
        args: ['--render-frame', '1..3'],
      }),
    ).toEqual({
      exe: '/opt/my blender/blender',
      args: [
        '--factory-startup',
        '--python-expr',
        'print(1)',
        '-b',
        '/shots/a b.blend',
        '--render-frame',
        '1..3',
      ],
    });
  });
});

const blender = findProgram('blender');
if (!blender) console.warn('blender-render with real Blender: skipped, blender is not on PATH');

(blender ? describe : describe.skip)('blender-render with real Blender', () => {
  let blendfile: string;

  beforeAll(() => {
    const dir = makeTempDir('blend');
    blendfile = path.join(dir, 'cube.blend');
    // The factory scene has a cube, a light and a camera; Cycles at 32x32 with 8 samples
    // renders a frame in a fraction of a second and prints a `Sample a/b` progress line.
    const script = [
      'import bpy',
      's = bpy.context.scene',
      's.render.engine = "CYCLES"',
      's.cycles.device = "CPU"',
      's.cycles.samples = 8',
      's.cycles.use_denoising = False',
      's.render.resolution_x = 32',
      's.render.resolution_y = 32',
      's.render.resolution_percentage = 100',
      `bpy.ops.wm.save_as_mainfile(filepath=${JSON.stringify(blendfile)})`,
    ].join('\n');
    execFileSync('blender', ['-b', '--factory-startup', '--python-expr', script], {
      stdio: 'ignore',
    });
    expect(existsSync(blendfile)).toBe(true);
  }, 60_000);

  it('renders frames 1..3 to PNG, with a preview per frame, progress to 1, and the log', async () => {
    const out = makeTempDir('render');
    const ctx = createRecordingContext(out);
    await runCommand(
      {
        name: 'blender-render',
        parameters: {
          exe: 'blender',
          exeArgs: '--factory-startup',
          argsBefore: ['-b'],
          blendfile,
          args: [
            '--render-output',
            path.join(out, '######'),
            '--render-format',
            'PNG',
            '--render-frame',
            '1..3',
          ],
        },
      },
      ctx,
    );
    const pngs = ['000001.png', '000002.png', '000003.png'];
    expect(readdirSync(out).sort()).toEqual(pngs);
    expect(ctx.outputs).toEqual(pngs.map((p) => path.join(out, p)));
    expect(ctx.lines[0]).toMatch(
      /^going to run: blender --factory-startup -b \S+cube\.blend --render-output /,
    );
    expect(ctx.lines).toContainEqual(expect.stringMatching(/^Blender \d+\.\d+/));
    expect(ctx.lines).toContainEqual(expect.stringMatching(/^Fra:2 .*\| Sample 8\/8$/));
    expect(ctx.lines).toContain(`Saved: '${path.join(out, '000003.png')}'`);
    expect(ctx.lines.at(-1)).toBe('blender-render: 3 frame(s) saved');
    const fractions = ctx.updates.map((u) => u.fraction);
    expect(fractions).toContain(1 / 3);
    expect(fractions).toContain(2 / 3);
    expect(ctx.updates.at(-1)).toEqual({
      fraction: 1,
      activity: 'frame 3 (3 of 3), saved',
      stepsDone: 3,
    });
    expect(
      ctx.updates.some((u) => /^frame 2 \(2 of 3\), sample \d\/8$/.test(u.activity ?? '')),
    ).toBe(true);
  }, 60_000);

  it('fails with the reason Blender gives when the blend file cannot be read', async () => {
    const ctx = createRecordingContext(makeTempDir('render'));
    await expect(
      runCommand(
        {
          name: 'blender-render',
          parameters: { exe: 'blender', argsBefore: ['-b'], blendfile: '/no/such.blend' },
        },
        ctx,
      ),
    ).rejects.toMatchObject({
      message: expect.stringContaining("Blender failed: Cannot read file '/no/such.blend'"),
    });
  }, 60_000);

  it('is gone within a second of a cancel, mid-render', async () => {
    const out = makeTempDir('render-cancel');
    const ctx = createRecordingContext(out, { killGraceMs: 5000 });
    const running = runCommand(
      {
        name: 'blender-render',
        parameters: {
          exe: 'blender',
          argsBefore: ['-b'],
          blendfile,
          args: [
            '--python-expr',
            // Adaptive sampling would let a tiny frame converge and save early; without it a
            // million samples keep Blender busy on frame 1 until the cancel.
            'import bpy; c = bpy.context.scene.cycles; c.samples = 1000000; c.use_adaptive_sampling = False',
            '--render-output',
            path.join(out, '######'),
            '--render-frame',
            '1..100',
          ],
        },
      },
      ctx,
    );
    const renderingStarted = (): boolean =>
      ctx.lines.some((l) => /\| Sample \d+\/1000000$/.test(l));
    const deadline = Date.now() + 30_000;
    while (!renderingStarted() && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(renderingStarted()).toBe(true);
    const pids = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(out))
      .map((l) => Number(l.trim().split(' ')[0]));
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.every(isRunning)).toBe(true);

    const started = Date.now();
    ctx.controller.abort(new Error('job canceled'));
    await expect(running).rejects.toThrow('job canceled');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(pids.filter(isRunning)).toEqual([]);
    expect(ctx.outputs).toEqual([]);
  }, 60_000);
});
