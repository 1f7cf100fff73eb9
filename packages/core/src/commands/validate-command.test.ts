import { COMMAND_NAMES, COMMAND_SCHEMAS, KNOWN_TASK_TYPES, validateCommand } from '.';

describe('validateCommand', () => {
  it('accepts a valid command of every kind', () => {
    const valid = [
      {
        name: 'blender-render',
        parameters: {
          exe: '{blender}',
          exeArgs: '{blenderArgs}',
          argsBefore: [],
          blendfile: '/shots/a.blend',
          args: ['--render-frame', '1..3'],
        },
        steps: 3,
      },
      {
        name: 'frames-to-video',
        parameters: {
          exe: 'ffmpeg',
          fps: 24,
          inputGlob: '/r/*.png',
          outputFile: '/r/a.mp4',
          args: [],
        },
      },
      { name: 'exec', parameters: { exe: 'ls', args: ['-l'], env: { A: '1' }, cwd: '/tmp' } },
      { name: 'make-directory', parameters: { path: '/tmp/x' } },
      { name: 'move-directory', parameters: { src: '/a', dest: '/b' } },
      { name: 'copy-file', parameters: { src: '/a', dest: '/b' } },
      { name: 'delete-path', parameters: { path: '/a' } },
      { name: 'echo', parameters: { message: '' } },
      { name: 'sleep', parameters: { duration_in_seconds: 0 } },
    ];
    expect(valid.map((c) => c.name).sort()).toEqual([...COMMAND_NAMES].sort());
    for (const command of valid) expect(validateCommand(command)).toEqual([]);
  });

  it('reports every problem with its parameter path', () => {
    const issues = validateCommand({
      name: 'frames-to-video',
      parameters: { exe: '', fps: 0, inputGlob: '/r/*.png', args: ['-y', 3], bogus: true },
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'parameters.exe', message: expect.stringContaining('fewer than 1') },
        { path: 'parameters.fps', message: 'must be > 0' },
        { path: 'parameters.outputFile', message: 'is required' },
        { path: 'parameters.args[1]', message: 'must be string' },
        { path: 'parameters.bogus', message: 'is not a parameter of frames-to-video' },
      ]),
    );
    expect(issues).toHaveLength(5);
  });

  it('refuses unknown commands, bad shapes, negative sleeps and non-string env values', () => {
    expect(validateCommand({ name: 'rm-rf', parameters: {} })[0]).toMatchObject({
      path: 'name',
      message: expect.stringContaining('unknown command "rm-rf"'),
    });
    expect(validateCommand(null)).toHaveLength(1);
    expect(validateCommand({ name: 'echo', parameters: 'hi' })).toEqual([
      { path: 'parameters', message: 'must be an object' },
    ]);
    expect(validateCommand({ name: 'sleep', parameters: { duration_in_seconds: -1 } })).toEqual([
      { path: 'parameters.duration_in_seconds', message: 'must be >= 0' },
    ]);
    expect(validateCommand({ name: 'exec', parameters: { exe: 'x', env: { A: 1 } } })).toEqual([
      { path: 'parameters.env.A', message: 'must be string' },
    ]);
    expect(validateCommand({ name: 'echo', parameters: { message: 'x' }, steps: 1.5 })).toEqual([
      { path: 'steps', message: 'must be a whole number of at least 0' },
    ]);
  });

  it('publishes draft 2020-12 schemas that forbid extra parameters, with descriptions', () => {
    for (const name of COMMAND_NAMES) {
      const schema = COMMAND_SCHEMAS[name];
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.additionalProperties).toBe(false);
      expect(typeof schema.description).toBe('string');
      for (const property of Object.values(
        schema.properties as Record<string, { description?: string }>,
      )) {
        expect(property.description).toBeTruthy();
      }
    }
    expect(KNOWN_TASK_TYPES).toEqual(['blender', 'ffmpeg', 'file-management', 'misc']);
  });
});
