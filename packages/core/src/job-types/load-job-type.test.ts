import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isFarmError, type FarmError } from '../errors';
import { computeJobTypeEtag, createJobTypeRegistry, listJobTypes, loadJobType } from '.';
import { jobTypeFromSource, ONE_ECHO_TASK, scriptWith } from './test-support';

function failure(fn: () => unknown): FarmError {
  try {
    fn();
  } catch (error) {
    if (isFarmError(error)) return error;
    throw error;
  }
  throw new Error('expected a FarmError');
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-job-types-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, source: string): string => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, source);
  return file;
};

describe('loadJobType', () => {
  it('says which bundled job types exist when the name is unknown', () => {
    const error = failure(() => loadJobType('no-such-type'));
    expect(error.code).toBe('not_found');
    expect(error.message).toMatch(
      /bundled: echo-sleep-test, ffmpeg-encode, shell-frames, simple-blender-render/,
    );
    expect(failure(() => loadJobType(path.join(dir, 'missing.js'))).code).toBe('not_found');
  });

  it('reports a syntax error with the file and line', () => {
    const file = write('broken.js', 'const JOB_TYPE = {\n  label: "x",,\n};');
    const error = failure(() => loadJobType(file));
    expect(error.code).toBe('compile_failed');
    expect(error.message).toMatch(/job type "broken" has a syntax error: Unexpected token ','/);
    expect(error.message).toContain(`${file}:2`);
  });

  it('reports every problem of JOB_TYPE at once', () => {
    const file = write(
      'bad_settings.js',
      `const JOB_TYPE = { label: '', settings: [
        { key: 'a', type: 'integer' },
        { key: 'b', type: 'int32', default: 'ten' },
        { key: 'b', type: 'string', visible: 'sometimes', choices: [] },
        { type: 'bool' },
      ] };
      function compileJob(job) {}`,
    );
    const error = failure(() => loadJobType(file));
    expect(error.code).toBe('validation_failed');
    expect(error.message).toBe('job type "bad-settings" declares an invalid JOB_TYPE: 7 problems');
    expect(error.issues).toEqual([
      { path: 'JOB_TYPE.label', message: 'must be a non-empty string' },
      {
        path: 'JOB_TYPE.settings[0].type',
        message: expect.stringMatching(/unknown type "integer"/),
      },
      { path: 'JOB_TYPE.settings[1].default', message: 'must be a whole number, got "ten"' },
      { path: 'JOB_TYPE.settings[2].choices', message: expect.any(String) },
      {
        path: 'JOB_TYPE.settings[2].visible',
        message: 'must be one of visible, submission, web, hidden',
      },
      { path: 'JOB_TYPE.settings[2].key', message: '"b" is declared twice' },
      { path: 'JOB_TYPE.settings[3].key', message: 'must be a non-empty string' },
    ]);
  });

  it('needs JOB_TYPE and compileJob', () => {
    expect(failure(() => jobTypeFromSource('function compileJob(job) {}')).issues).toEqual([
      { path: 'JOB_TYPE', message: 'the script must declare const JOB_TYPE = { label, settings }' },
    ]);
    expect(failure(() => jobTypeFromSource(`const JOB_TYPE = { label: 'x' };`)).message).toMatch(
      /defines no compileJob\(job\) function/,
    );
  });
});

describe('job-type etags', () => {
  const settings = `[{ key: 'a', type: 'string', default: 'x' }]`;
  const base = jobTypeFromSource(scriptWith(ONE_ECHO_TASK, settings));

  it('do not change when only the compile code changes', () => {
    expect(jobTypeFromSource(scriptWith(`print(1); ${ONE_ECHO_TASK}`, settings)).etag).toBe(
      base.etag,
    );
  });

  it('change when a setting changes', () => {
    const changed = jobTypeFromSource(
      scriptWith(ONE_ECHO_TASK, `[{ key: 'a', type: 'string', default: 'y' }]`),
    );
    expect(changed.etag).not.toBe(base.etag);
  });

  it('do not depend on key order', () => {
    const reordered = jobTypeFromSource(
      scriptWith(ONE_ECHO_TASK, `[{ default: 'x', type: 'string', key: 'a' }]`),
    );
    expect(reordered.etag).toBe(base.etag);
    expect(base.etag).toBe(
      computeJobTypeEtag('Inline', [{ key: 'a', type: 'string', default: 'x' }]),
    );
  });
});

describe('listJobTypes', () => {
  it('adds the scripts of extra folders; a later folder replaces a bundled one of the same name', () => {
    write('echo_sleep_test.js', scriptWith(ONE_ECHO_TASK).replace("'Inline'", "'My Echo'"));
    write('my-type.js', scriptWith(ONE_ECHO_TASK));
    write('tiny.js', '//');
    write('notes.txt', 'not a script');
    fs.mkdirSync(path.join(dir, 'nested'));
    fs.writeFileSync(path.join(dir, 'nested', 'deep.js'), scriptWith(ONE_ECHO_TASK));
    const types = listJobTypes({ folders: [dir] });
    expect(types.map((t) => t.name)).toEqual([
      'echo-sleep-test',
      'ffmpeg-encode',
      'my-type',
      'shell-frames',
      'simple-blender-render',
    ]);
    expect(types.find((t) => t.name === 'echo-sleep-test')!.label).toBe('My Echo');
  });
});

describe('createJobTypeRegistry', () => {
  it('serves bundled and folder job types, reloads changes, reuses unchanged scripts', () => {
    const file = write('custom.js', scriptWith(ONE_ECHO_TASK));
    const registry = createJobTypeRegistry({ folders: [dir] });
    expect(registry.list().map((t) => t.name)).toContain('custom');
    const before = registry.get('custom');
    const bundled = registry.get('echo_sleep_test');

    expect(registry.reload()).toEqual({ changed: [], removed: [], problems: [] });
    expect(registry.get('custom')).toBe(before);

    fs.writeFileSync(file, scriptWith(ONE_ECHO_TASK, `[{ key: 'n', type: 'int32', default: 1 }]`));
    expect(registry.reload().changed).toEqual(['custom']);
    expect(registry.get('custom').etag).not.toBe(before.etag);
    expect(registry.get('echo-sleep-test')).toBe(bundled);

    fs.rmSync(file);
    expect(registry.reload().removed).toEqual(['custom']);
    expect(failure(() => registry.get('custom')).code).toBe('not_found');
  });

  it('keeps serving the others when one script is broken, and reports it', () => {
    write('good.js', scriptWith(ONE_ECHO_TASK));
    const broken = write('broken.js', 'const JOB_TYPE = ;');
    const registry = createJobTypeRegistry({ folders: [dir], withoutBundled: true });
    expect(registry.list().map((t) => t.name)).toEqual(['good']);
    expect(registry.problems()).toEqual([
      expect.objectContaining({
        name: 'broken',
        path: broken,
        message: expect.stringMatching(/syntax error/),
      }),
    ]);
  });
});
