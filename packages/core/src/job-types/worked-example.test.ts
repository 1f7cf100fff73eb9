import path from 'node:path';
import { compileJob, loadJobType } from '.';

// The script of docs/job-types.md's worked example; if this test changes, update the doc too.
const example = path.join(__dirname, 'fixtures', 'worked-example.js');

describe('the worked example of docs/job-types.md', () => {
  const jobType = loadJobType(example);

  it('declares its settings', () => {
    expect(jobType.name).toBe('worked-example');
    expect(jobType.label).toBe('Denoise Frames');
    expect(jobType.settings.map((s) => [s.key, s.type, s.default])).toEqual([
      ['input_dir', 'string', undefined],
      ['frames', 'string', undefined],
      ['chunk_size', 'int32', 10],
      ['strength', 'float', 0.5],
      ['quality', 'string', 'final'],
      ['extra_args', 'string', ''],
      ['denoiser', 'string', '{denoiser}'],
    ]);
  });

  it('compiles as the doc shows', () => {
    const job = compileJob(jobType, {
      name: 'shot-010 denoise',
      type: 'worked-example',
      settings: {
        input_dir: '/render/shot-010/frames',
        frames: '1-25',
        chunk_size: 10,
        extra_args: '--tile 256',
      },
    });
    expect(
      job.tasks.map((t) => [t.name, t.type, t.priority, t.tags, t.dependsOn, t.steps]),
    ).toEqual([
      ['prepare', 'file-management', 50, [], [], undefined],
      ['denoise-1-10', 'misc', 60, ['gpu'], [0], 10],
      ['denoise-11-20', 'misc', 60, ['gpu'], [0], 10],
      ['denoise-21-25', 'misc', 60, ['gpu'], [0], 5],
      ['report', 'file-management', 50, [], [1, 2, 3], undefined],
    ]);
    expect(job.tasks[1]!.commands).toEqual([
      {
        name: 'exec',
        parameters: {
          exe: '{denoiser}',
          args: [
            '--in',
            '/render/shot-010/frames',
            '--out',
            '/render/shot-010/frames-denoised',
            '--frames',
            '1-10',
            '--strength',
            '0.5',
            '--tile',
            '256',
          ],
        },
        steps: 10,
      },
    ]);
    expect(job.settings.output_dir).toBe('/render/shot-010/frames-denoised');
    expect(job.messages).toEqual(['denoising 3 chunks into /render/shot-010/frames-denoised']);
  });

  it('refuses bad settings with every problem listed', () => {
    expect(() =>
      compileJob(jobType, {
        name: 'x',
        type: 'worked-example',
        settings: { frames: '1-25', strength: 2, quality: 'ultra' },
      }),
    ).toThrow('job settings are invalid: 3 problems');
  });
});
