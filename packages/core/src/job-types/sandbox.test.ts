import { isFarmError, type FarmError } from '../errors';
import { compileJob, MAX_SCRIPT_MESSAGES, type JobType } from '.';
import { createJobType } from './create-job-type';
import { ONE_ECHO_TASK, scriptWith } from './test-support';

function failure(fn: () => unknown): FarmError {
  try {
    fn();
  } catch (error) {
    if (isFarmError(error)) return error;
    throw error;
  }
  throw new Error('expected a FarmError');
}

const load = (source: string, timeoutMs = 5000): JobType =>
  createJobType({ name: 'escape', source, timeoutMs });
const compile = (jobType: JobType) => compileJob(jobType, { name: 'j', type: 'escape' });

describe('the job-type sandbox', () => {
  it('offers no Node require: only the modules of the authoring API', () => {
    const error = failure(() =>
      compile(load(scriptWith(`require('fs').writeFileSync('/tmp/x', 'x');`))),
    );
    expect(error.code).toBe('compile_failed');
    expect(error.message).toMatch(/require\("fs"\) is not available in job-type scripts/);
    const childProcess = failure(() =>
      load(`require('child_process'); ${scriptWith(ONE_ECHO_TASK)}`),
    );
    expect(childProcess.message).toMatch(/require\("child_process"\) is not available/);
  });

  it('offers no real process: process.exit does not exist', () => {
    const error = failure(() => compile(load(scriptWith(`process.exit(3);`))));
    expect(error.message).toMatch(/TypeError: process.exit is not a function/);
    const env = compile(
      load(
        scriptWith(
          `print(typeof process.env, typeof process.cwd(), process.platform); ${ONE_ECHO_TASK}`,
        ),
      ),
    );
    expect(env.messages[0]).toMatch(/^undefined string (linux|windows|darwin|\w+)$/);
  });

  it('blocks the constructor escape to the host Function', () => {
    for (const attempt of [
      `this.constructor.constructor('return process')().exit(1)`,
      `author.Task.constructor('return process')()`,
      `frameChunker.constructor('return process')()`,
      `(() => {}).constructor('return process')()`,
      `eval('1 + 1')`,
    ]) {
      const error = failure(() => compile(load(scriptWith(`${attempt};`))));
      expect(error.code).toBe('compile_failed');
      expect(error.message).toMatch(/Code generation from strings disallowed/);
    }
    const topLevel = failure(() =>
      load(`this.constructor.constructor('return process')().exit(1);`),
    );
    expect(topLevel.message).toMatch(/Code generation from strings disallowed/);
  });

  it('gives no host objects through helper results or errors', () => {
    const jobType = load(
      scriptWith(`
        const found = [];
        const probe = (value) => { try { if (value.constructor.constructor('return 1')() === 1) found.push('escaped'); } catch (e) { found.push(e.name); } };
        probe(frameChunker('1-3', 1));
        probe(shellSplit('a b'));
        probe(path);
        try { frameChunker('bad', 1); } catch (e) { probe(e); }
        probe(job);
        probe(job.created);
        print(found.join(','));
        ${ONE_ECHO_TASK}`),
    );
    expect(compile(jobType).messages).toEqual([
      'EvalError,EvalError,EvalError,EvalError,EvalError,EvalError',
    ]);
  });

  it('cannot hook stack traces to reach host frames', () => {
    const jobType = load(
      scriptWith(`
        try { Error.prepareStackTrace = (e, frames) => frames; } catch (e) { print('blocked: ' + e.name); }
        try { globalThis.Error = function () {}; } catch (e) { print('blocked: ' + e.name); }
        print(typeof new Error('x').stack);
        ${ONE_ECHO_TASK}`),
    );
    const messages = compile(jobType).messages;
    expect(messages[messages.length - 1]).toBe('string');
  });

  it('stops an endless loop with a compile error naming the limit', () => {
    const jobType = load(scriptWith('while (true) {}'), 200);
    const error = failure(() => compile(jobType));
    expect(error.code).toBe('compile_failed');
    expect(error.message).toBe(
      'compileJob(job) took longer than 200 ms and was stopped (an endless loop?)',
    );
    const topLevel = failure(() => load(`for (;;) {} ${scriptWith(ONE_ECHO_TASK)}`, 200));
    expect(topLevel.message).toMatch(/took longer than 200 ms/);
  });

  // An endless promise chain is also stopped by the limit (microtasks run inside it), but only
  // when no async hooks are enabled in the process: Node aborts when it terminates a microtask
  // checkpoint while promise hooks are installed, and jest installs them. See docs/job-types.md.

  it('reads what a script throws only under the time limit', () => {
    const jobType = load(scriptWith(`throw { get message() { for (;;) {} } };`), 200);
    const error = failure(() => compile(jobType));
    expect(error.code).toBe('compile_failed');
    expect(error.message).toMatch(/took longer than 200 ms/);
    const throwing = load(scriptWith(`throw { get message() { throw new Error('again'); } };`));
    expect(failure(() => compile(throwing)).message).toBe(
      'the script threw a value that cannot be shown',
    );
    const topLevel = failure(() => load(`throw { get message() { for (;;) {} } };`, 200));
    expect(topLevel.message).toMatch(/could not be read in time/);
  });

  it('caps output: print floods and task counts', () => {
    const printer = load(
      scriptWith(
        `for (let i = 0; i < 5000; i++) print('line', i, 'x'.repeat(20000)); ${ONE_ECHO_TASK}`,
      ),
    );
    const { messages } = compile(printer);
    expect(messages).toHaveLength(MAX_SCRIPT_MESSAGES + 1);
    expect(messages[0]!.length).toBeLessThan(10_100);
    expect(messages[messages.length - 1]).toBe('(4000 more messages were dropped)');

    const flood = load(scriptWith(`for (;;) job.addTask(author.Task('t', 'misc'));`));
    const error = failure(() =>
      compileJob(flood, { name: 'j', type: 'escape' }, { maxTasks: 1000 }),
    );
    expect(error.message).toMatch(/a job may have at most 1000 tasks/);
  });

  it('starts every compilation afresh: one job cannot leave state for the next', () => {
    const jobType = load(
      scriptWith(
        `
        globalThis.counter = (globalThis.counter || 0) + 1;
        Array.prototype.polluted = true;
        print(String(counter), String([].polluted === true && counter > 1));
        ${ONE_ECHO_TASK}`,
        '[]',
        'let topLevel = 0; topLevel++;',
      ),
    );
    expect(compile(jobType).messages).toEqual(['1 false']);
    expect(compile(jobType).messages).toEqual(['1 false']);
    expect(([] as unknown as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('hands back plain data even when the script returns getters and odd values', () => {
    const jobType = load(
      scriptWith(`
        const t = author.Task('t', 'misc');
        const params = { get message() { return 'from getter'; }, toString() { return 'x'; } };
        t.addCommand(author.Command('echo', params));
        job.addTask(t);
        job.settings.when = new Date(0);
        job.settings.fn = () => 1;`),
    );
    const compiled = compile(jobType);
    expect(compiled.tasks[0]!.commands[0]!.parameters).toEqual({ message: 'from getter' });
    expect(compiled.settings).toEqual({ when: '1970-01-01T00:00:00.000Z' });
  });
});
