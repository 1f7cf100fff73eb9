import path from 'node:path';
import { compileJob, loadJobType } from '.';

const fixture = path.join(__dirname, 'fixtures', 'flamenco-echo-sleep-test.js');

describe('a job type written for Flamenco 3.9', () => {
  it('loads by path, named after its file', () => {
    const jobType = loadJobType(fixture);
    expect(jobType.name).toBe('flamenco-echo-sleep-test');
    expect(jobType.label).toBe('Echo Sleep Frames');
    expect(jobType.path).toBe(fixture);
    expect(jobType.settings.map((s) => s.key)).toEqual([
      'message',
      'frames',
      'chunk_size',
      'sleep_duration_seconds',
      'log_root',
    ]);
    expect(jobType.settings[1]).toEqual({
      key: 'frames',
      type: 'string',
      required: true,
      eval: "f'{C.scene.frame_start}-{C.scene.frame_end}'",
      evalInfo: { showLinkButton: true, description: 'Scene frame range' },
      description: 'Frames to sleep on',
    });
  });

  it('compiles to exactly the tasks and commands the script authors', () => {
    const job = compileJob(loadJobType(fixture), {
      name: 'shot-010',
      type: 'flamenco-echo-sleep-test',
      settings: { message: 'hello farm', frames: '1-5,9' },
    });
    expect(job.messages).toEqual(['Echo Sleep Frames job submitted', 'job:  shot-010']);
    expect(job.settings).toEqual({
      message: 'hello farm',
      frames: '1-5,9',
      chunk_size: 2,
      sleep_duration_seconds: 0.5,
      log_root: '/tmp/farm-logs',
    });
    const sleep = (chunk: string, dependsOn: number[], index: number) => ({
      index,
      name: `sleep-${chunk}`,
      type: 'misc',
      priority: 50,
      tags: [],
      commands: [
        { name: 'sleep', parameters: { duration_in_seconds: 0.5 } },
        { name: 'echo', parameters: { message: `slept on ${chunk}` } },
      ],
      dependsOn,
    });
    expect(job.tasks).toEqual([
      {
        index: 0,
        name: 'echo',
        type: 'misc',
        priority: 50,
        tags: [],
        commands: [
          { name: 'echo', parameters: { message: 'hello farm' } },
          { name: 'make-directory', parameters: { path: '/tmp/farm-logs/echo' } },
        ],
        dependsOn: [],
      },
      sleep('1,2', [0], 1),
      sleep('3,4', [0], 2),
      sleep('5,9', [0], 3),
    ]);
  });

  it("accepts Flamenco's file naming with underscores for bundled job types", () => {
    expect(loadJobType('simple_blender_render').name).toBe('simple-blender-render');
    expect(loadJobType('echo_sleep_test').name).toBe('echo-sleep-test');
  });

  it('offers require() for the modules Flamenco pre-loads, and nothing else', () => {
    const jobType = loadJobType(path.join(__dirname, 'fixtures', 'flamenco-require.js'));
    const job = compileJob(jobType, { name: 'r', type: 'flamenco-require' });
    expect(job.tasks[0]!.commands[0]!.parameters).toEqual({
      message: `a/b ${process.platform === 'win32' ? 'windows' : process.platform}`,
    });
  });
});
