import type { JobSetting } from '../api/api-types';
import {
  checkSubmitForm,
  fieldOfIssuePath,
  formSettings,
  formToSettings,
  initialFormValues,
} from './settings-form-model';

const settings: JobSetting[] = [
  { key: 'frames', type: 'string', required: true, label: 'Frames' },
  { key: 'chunk_size', type: 'int32', default: 1, propargs: { min: 1, max: 1000 } },
  { key: 'fps', type: 'float', required: true },
  { key: 'format', type: 'string', choices: ['PNG', 'EXR'], default: 'PNG' },
  { key: 'denoise', type: 'bool', default: true },
  { key: 'internal', type: 'string', visible: 'hidden', default: 'x' },
];

describe('the submit form model', () => {
  it('shows every setting but hidden ones and starts from the defaults', () => {
    expect(formSettings(settings).map((s) => s.key)).toEqual([
      'frames',
      'chunk_size',
      'fps',
      'format',
      'denoise',
    ]);
    expect(initialFormValues(settings)).toEqual({
      frames: '',
      chunk_size: '1',
      fps: '',
      format: 'PNG',
      denoise: true,
    });
  });

  it('turns fields into typed values and leaves empty ones out', () => {
    expect(
      formToSettings(settings, {
        frames: '1-10',
        chunk_size: ' 5 ',
        fps: '',
        format: 'EXR',
        denoise: false,
      }),
    ).toEqual({
      frames: '1-10',
      chunk_size: 5,
      format: 'EXR',
      denoise: false,
    });
  });

  it('lists every problem at once, per field, with the same rules as the manager', () => {
    const check = checkSubmitForm(
      settings,
      { frames: '', chunk_size: '0', fps: 'fast', format: 'JPEG', denoise: true },
      { name: '', priority: '200' },
    );
    expect(Object.keys(check.problems).sort()).toEqual([
      'chunk_size',
      'format',
      'fps',
      'frames',
      'name',
      'priority',
    ]);
    expect(check.problems.frames).toEqual(['is required']);
    expect(check.problems.chunk_size?.[0]).toMatch(/at least 1/);
    expect(check.problems.fps?.[0]).toMatch(/number/);
    expect(check.problems.format?.[0]).toMatch(/one of "PNG", "EXR"/);
    expect(check.count).toBe(6);
  });

  it('accepts a good form and sends defaults for hidden settings', () => {
    const check = checkSubmitForm(
      settings,
      { frames: '1-250', chunk_size: '10', fps: '24', format: 'PNG', denoise: true },
      { name: 'Shot 010', priority: '50' },
    );
    expect(check.count).toBe(0);
    expect(check.settings).toEqual({
      frames: '1-250',
      chunk_size: 10,
      fps: 24,
      format: 'PNG',
      denoise: true,
      internal: 'x',
    });
  });

  it('rejects a whole-number setting given a fraction', () => {
    const check = checkSubmitForm(
      settings,
      { frames: '1', chunk_size: '2.5', fps: '24' },
      { name: 'a', priority: '50' },
    );
    expect(check.problems.chunk_size?.[0]).toMatch(/whole number/);
  });

  it('maps the manager issue paths onto form fields', () => {
    expect(fieldOfIssuePath('body.settings.fps')).toBe('fps');
    expect(fieldOfIssuePath('/settings/frames')).toBe('frames');
    expect(fieldOfIssuePath('settings.chunk_size')).toBe('chunk_size');
    expect(fieldOfIssuePath('frames')).toBe('frames');
    expect(fieldOfIssuePath('body.name')).toBe('name');
  });
});
