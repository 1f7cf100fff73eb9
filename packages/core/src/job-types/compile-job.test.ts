import { isFarmError, type FarmError } from '../errors';
import { compileJob, type JobType, type SubmittedJob } from '.';
import { jobTypeFromSource, ONE_ECHO_TASK, scriptWith } from './test-support';

function compileError(jobType: JobType, job: SubmittedJob): FarmError {
  try {
    compileJob(jobType, job);
  } catch (error) {
    if (isFarmError(error)) return error;
    throw error;
  }
  throw new Error('expected compileJob to throw');
}

const SETTINGS = `[
  { key: 'frames', type: 'string', required: true },
  { key: 'chunk_size', type: 'int32', default: 1, propargs: { min: 1, max: 100, soft_max: 10 } },
  { key: 'fps', type: 'float', eval: 'C.scene.render.fps', visible: 'hidden' },
  { key: 'quality', type: 'string', choices: ['draft', 'final'], default: 'final' },
  { key: 'denoise', type: 'bool', default: false },
  { key: 'output', type: 'string', required: true, default: '/render', visible: 'hidden' },
]`;

describe('compileJob settings validation', () => {
  const jobType = jobTypeFromSource(scriptWith(ONE_ECHO_TASK, SETTINGS), 'settings-test');
  const job = (settings: Record<string, unknown>): SubmittedJob => ({
    name: 'j',
    type: 'settings-test',
    settings,
  });

  it('applies defaults, keeps unknown settings with a warning, and leaves optional ones out', () => {
    const compiled = compileJob(jobType, job({ frames: '1-10', extra: 'kept' }));
    expect(compiled.settings).toEqual({
      frames: '1-10',
      chunk_size: 1,
      quality: 'final',
      denoise: false,
      output: '/render',
      extra: 'kept',
    });
    expect(compiled.warnings).toEqual([
      'setting "extra" is not declared by the job type; it is kept as given',
    ]);
  });

  it('reports every problem at once, each under its setting key', () => {
    const error = compileError(
      jobType,
      job({ chunk_size: 0, fps: 'fast', quality: 'best', denoise: 'yes' }),
    );
    expect(error.code).toBe('validation_failed');
    expect(error.message).toBe('job settings are invalid: 5 problems');
    expect(error.issues).toEqual([
      { path: 'frames', message: 'is required' },
      { path: 'chunk_size', message: 'must be at least 1, got 0' },
      { path: 'fps', message: 'must be a number, got "fast"' },
      { path: 'quality', message: 'must be one of "draft", "final", got "best"' },
      { path: 'denoise', message: 'must be true or false, got "yes"' },
    ]);
  });

  it('checks int32 as a whole number within 32 bits, and max bounds', () => {
    expect(compileError(jobType, job({ frames: '1', chunk_size: 2.5 })).issues).toEqual([
      { path: 'chunk_size', message: 'must be a whole number, got 2.5' },
    ]);
    expect(
      compileError(jobType, job({ frames: '1', chunk_size: 2 ** 31 })).issues[0]!.message,
    ).toMatch(/int32/);
    expect(compileError(jobType, job({ frames: '1', chunk_size: 101 })).issues).toEqual([
      { path: 'chunk_size', message: 'must be at most 100, got 101' },
    ]);
    expect(compileError(jobType, job({ frames: 12 })).issues).toEqual([
      { path: 'frames', message: 'must be a string, got 12' },
    ]);
    expect(compileError(jobType, job({ frames: '1', fps: Infinity })).issues).toHaveLength(1);
  });

  it('treats null as no value, so the default applies', () => {
    expect(compileJob(jobType, job({ frames: '1', quality: null })).settings.quality).toBe('final');
  });

  it('checks the job fields too', () => {
    const error = compileError(jobType, {
      name: '',
      type: 'other',
      priority: 101,
      metadata: { a: 1 as unknown as string },
      settings: { frames: '1' },
    });
    expect(error.message).toBe('job is invalid: 4 problems');
    expect(error.issues.map((i) => i.path)).toEqual(['name', 'type', 'priority', 'metadata.a']);
  });
});

describe('compileJob etag check', () => {
  const jobType = jobTypeFromSource(scriptWith(ONE_ECHO_TASK), 'etag-test');

  it('refuses a submission made against another version of the job type', () => {
    const error = compileError(jobType, { name: 'j', type: 'etag-test', typeEtag: 'abc' });
    expect(error.code).toBe('job_type_stale');
    expect(error.message).toMatch(/refresh the job type and submit again/);
    expect(error.details).toEqual({
      jobType: 'etag-test',
      expected: jobType.etag,
      received: 'abc',
    });
  });

  it('accepts the current etag, or none', () => {
    expect(
      compileJob(jobType, { name: 'j', type: 'etag-test', typeEtag: jobType.etag }).typeEtag,
    ).toBe(jobType.etag);
    expect(compileJob(jobType, { name: 'j', type: 'etag-test' }).tasks).toHaveLength(1);
  });
});

describe('compileJob script failures', () => {
  it('turns a thrown string into a compile error with exactly that message', () => {
    const jobType = jobTypeFromSource(scriptWith(`throw 'This job type only renders images';`));
    const error = compileError(jobType, { name: 'j', type: 'inline-test' });
    expect(error.code).toBe('compile_failed');
    expect(error.message).toBe('This job type only renders images');
    expect(error.details).toMatchObject({ jobType: 'inline-test' });
  });

  it('reports a thrown Error with its message and the script location', () => {
    const jobType = createNamed(scriptWith(`print('before'); job.settings.nope.deeper = 1;`));
    const error = compileError(jobType, { name: 'j', type: 'broken' });
    expect(error.code).toBe('compile_failed');
    expect(error.message).toMatch(
      /^TypeError: Cannot set properties of undefined .* \(at broken\.js:4:\d+\)$/,
    );
    expect(error.details).toEqual({ jobType: 'broken', messages: ['before'] });
  });

  it('reports bad frame ranges from the helpers as compile errors', () => {
    const jobType = jobTypeFromSource(scriptWith(`frameChunker('1-x', 1);`));
    const error = compileError(jobType, { name: 'j', type: 'inline-test' });
    expect(error.code).toBe('compile_failed');
    expect(error.message).toMatch(/cannot parse "1-x"/);
  });

  function createNamed(source: string): JobType {
    return jobTypeFromSource(source, 'broken');
  }
});

describe('compileJob checks the tasks a script produced', () => {
  const issuesOf = (body: string) =>
    compileError(jobTypeFromSource(scriptWith(body)), { name: 'j', type: 'inline-test' });

  it('needs at least one task', () => {
    const error = issuesOf('');
    expect(error.code).toBe('validation_failed');
    expect(error.issues).toEqual([
      { path: 'tasks', message: 'the job type produced no tasks; call job.addTask(task)' },
    ]);
  });

  it('validates every command against its schema, with full paths', () => {
    const error = issuesOf(`
      const a = author.Task('a', 'misc');
      a.addCommand(author.Command('echo', { message: 'fine' }));
      job.addTask(a);
      const b = author.Task('b', 'ffmpeg');
      b.addCommand(author.Command('echo', { message: 'fine' }));
      b.addCommand(author.Command('frames-to-video', { exe: 'ffmpeg', fps: 0, inputGlob: '*.png', outputFile: 'o.mp4' }));
      b.addCommand(author.Command('teleport', {}));
      job.addTask(b);`);
    expect(error.message).toBe('job type "inline-test" produced invalid tasks: 2 problems');
    expect(error.issues).toEqual([
      { path: 'tasks[1].commands[1].parameters.fps', message: 'must be > 0' },
      {
        path: 'tasks[1].commands[2].name',
        message: expect.stringContaining('unknown command "teleport"'),
      },
    ]);
  });

  it('refuses dependencies on tasks that were never added to the job', () => {
    const error = issuesOf(`
      const ghost = author.Task('ghost', 'misc');
      const t = author.Task('t', 'misc');
      t.addCommand(author.Command('echo', { message: 'x' }));
      t.addDependency(ghost);
      job.addTask(t);`);
    expect(error.issues).toEqual([
      {
        path: 'tasks[0].dependsOn',
        message: 'depends on task "ghost", which was never added to this job (job.addTask)',
      },
    ]);
  });

  it('finds dependencies by the final positions when the script changes job.tasks itself', () => {
    const mk = `const mk = (n) => { const t = author.Task(n, 'misc'); t.addCommand(author.Command('echo', { message: n })); return t; };
      const a = mk('a'), b = mk('b');
      b.addDependency(a);`;
    const reordered = compileJob(
      jobTypeFromSource(scriptWith(`${mk} job.tasks.push(b); job.addTask(a);`)),
      { name: 'j', type: 'inline-test' },
    );
    expect(reordered.tasks.map((t) => [t.name, t.dependsOn])).toEqual([
      ['b', [1]],
      ['a', []],
    ]);
    const removed = issuesOf(`${mk} job.addTask(a); job.addTask(b); job.tasks.shift();`);
    expect(removed.issues).toEqual([
      {
        path: 'tasks[0].dependsOn',
        message: 'depends on task "a", which was never added to this job (job.addTask)',
      },
    ]);
  });

  it('refuses dependency cycles and names the tasks in the cycle', () => {
    const error = issuesOf(`
      const mk = (n) => { const t = author.Task(n, 'misc'); t.addCommand(author.Command('echo', { message: n })); job.addTask(t); return t; };
      const free = mk('free'), a = mk('a'), b = mk('b'), c = mk('c');
      a.addDependency(c); b.addDependency(a); c.addDependency(b); b.addDependency(free);`);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]!.message).toMatch(/^dependency cycle: /);
    const names = /cycle: (.*);/.exec(error.issues[0]!.message)![1]!.split(' waits for ');
    expect(names[0]).toBe(names[names.length - 1]);
    expect(new Set(names)).toEqual(new Set(['"a"', '"b"', '"c"']));
  });

  it('refuses a task depending on itself', () => {
    const error = issuesOf(`${ONE_ECHO_TASK} t.addDependency(t);`);
    expect(error.issues[0]!.message).toBe(
      'dependency cycle: "only" waits for "only"; no task of the cycle could ever start',
    );
  });

  it('refuses adding the same task twice', () => {
    const error = compileError(jobTypeFromSource(scriptWith(`${ONE_ECHO_TASK} job.addTask(t);`)), {
      name: 'j',
      type: 'inline-test',
    });
    expect(error.code).toBe('compile_failed');
    expect(error.message).toMatch(/task "only" was already added to the job/);
  });

  it('refuses objects that are not tasks, and tasks without a name or type', () => {
    expect(issuesOf(`job.addTask({ name: 'fake', commands: [] });`).message).toMatch(
      /job.addTask needs a task made with author.Task/,
    );
    // Made from Task.prototype, it passes instanceof but was never built by author.Task.
    expect(
      issuesOf(`job.addTask(Object.create(Object.getPrototypeOf(author.Task('a', 'misc'))));`)
        .message,
    ).toMatch(/job.addTask needs a task made with author.Task/);
    expect(issuesOf(`author.Task('  ', 'misc');`).message).toMatch(/author.Task needs a name/);
    expect(issuesOf(`author.Task('x', '');`).message).toMatch(/needs a task type/);
    expect(issuesOf(`${ONE_ECHO_TASK} t.name = '';`).issues).toEqual([
      { path: 'tasks[0].name', message: 'must be a non-empty string' },
    ]);
  });

  it('checks priorities and tags set by the script', () => {
    const error = issuesOf(`${ONE_ECHO_TASK} t.priority = 'high'; t.tags.push('');`);
    expect(error.issues).toEqual([
      { path: 'tasks[0].priority', message: 'must be a whole number from 0 to 100' },
      { path: 'tasks[0].tags[0]', message: 'must be a non-empty string' },
    ]);
  });
});

describe('compileJob results', () => {
  it('returns plain data: indices, dependencies, priorities, tags, steps, messages, script setting changes', () => {
    const jobType = jobTypeFromSource(
      scriptWith(
        `
      print('compiling', job.name, job.priority, job.jobType);
      alert('careful');
      job.settings.added = job.created.toISOString() + ' ' + job.id + ' ' + job.metadata.shot;
      const a = author.Task('a', 'blender');
      a.addCommand(author.Command('blender-render', { exe: '{blender}', blendfile: 'f.blend', args: ['--render-frame', 1, true] }, 3));
      a.addCommand(author.Command('echo', { message: 'again' }, 2));
      a.priority = 80;
      a.tags.push('gpu', 'gpu', 'linux');
      job.addTask(a);
      const b = author.Task('b', 'custom-type');
      b.addCommand(author.Command('sleep', { duration_in_seconds: 0 }));
      b.addDependency(a);
      b.addDependency(a);
      job.addTask(b);
      const empty = author.Task('empty', 'misc');
      job.addTask(empty);`,
        `[{ key: 'x', type: 'string', default: 'y' }]`,
      ),
    );
    const compiled = compileJob(
      jobType,
      {
        name: 'shot 10',
        type: 'inline-test',
        priority: 70,
        metadata: { shot: 's10' },
        ignored: true,
      },
      { jobId: 'job-1', created: new Date('2024-05-06T07:08:09.000Z') },
    );
    expect(compiled).toEqual({
      name: 'shot 10',
      type: 'inline-test',
      typeEtag: jobType.etag,
      priority: 70,
      settings: { x: 'y', added: '2024-05-06T07:08:09.000Z job-1 s10' },
      metadata: { shot: 's10' },
      messages: ['compiling shot 10 70 inline-test', 'alert: careful'],
      warnings: ['task "empty" (index 2) has no commands'],
      tasks: [
        {
          index: 0,
          name: 'a',
          type: 'blender',
          priority: 80,
          tags: ['gpu', 'linux'],
          commands: [
            {
              name: 'blender-render',
              parameters: {
                exe: '{blender}',
                blendfile: 'f.blend',
                args: ['--render-frame', '1', 'true'],
              },
              steps: 3,
            },
            { name: 'echo', parameters: { message: 'again' }, steps: 2 },
          ],
          dependsOn: [],
          steps: 5,
        },
        {
          index: 1,
          name: 'b',
          type: 'custom-type',
          priority: 50,
          tags: [],
          commands: [{ name: 'sleep', parameters: { duration_in_seconds: 0 } }],
          dependsOn: [0],
        },
        {
          index: 2,
          name: 'empty',
          type: 'misc',
          priority: 50,
          tags: [],
          commands: [],
          dependsOn: [],
        },
      ],
    });
    expect(Object.getPrototypeOf(compiled.tasks[0])).toBe(Object.prototype);
  });

  it('does not let the submitted settings object be changed by the script', () => {
    const jobType = jobTypeFromSource(scriptWith(`job.settings.x = 'changed'; ${ONE_ECHO_TASK}`));
    const settings = { x: 'original' };
    expect(compileJob(jobType, { name: 'j', type: 'inline-test', settings }).settings.x).toBe(
      'changed',
    );
    expect(settings.x).toBe('original');
  });

  it('refuses a job type object that was not loaded by this package', () => {
    const fake = { ...jobTypeFromSource(scriptWith(ONE_ECHO_TASK)) };
    expect(() => compileJob(fake, { name: 'j', type: 'inline-test' })).toThrow(
      /needs a job type from loadJobType/,
    );
  });
});
