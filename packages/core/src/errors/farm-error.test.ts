import vm from 'node:vm';
import {
  ERROR_CODE_HTTP_STATUS,
  ERROR_CODES,
  FarmError,
  isFarmError,
  toFarmError,
  validationError,
} from '.';

describe('FarmError', () => {
  it('carries a stable code, a message and details, and serialises to the API error body', () => {
    const error = new FarmError('invalid_transition', 'job is completed', {
      details: { allowedActions: ['requeue'] },
    });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'invalid_transition',
      message: 'job is completed',
      details: { allowedActions: ['requeue'] },
    });
    expect(ERROR_CODE_HTTP_STATUS[error.code]).toBe(409);
  });

  it('is recognised by isFarmError across realms, where instanceof fails', () => {
    const error = new FarmError('not_found', 'nope');
    const copied: unknown = vm.runInNewContext('structuredCloneLike', {
      structuredCloneLike: error,
    });
    expect(isFarmError(copied)).toBe(true);
    expect(isFarmError(new Error('plain'))).toBe(false);
    expect(isFarmError({ code: 'not_found', message: 'fake' })).toBe(false);
    expect(isFarmError(null)).toBe(false);
  });

  it('lists validation issues', () => {
    const error = validationError('2 problems', [
      { path: 'frames', message: 'is required' },
      { path: 'fps', message: 'must be a number' },
    ]);
    expect(error.issues.map((i) => i.path)).toEqual(['frames', 'fps']);
  });

  it('turns anything thrown into a FarmError, keeping the cause', () => {
    const cause = new TypeError('boom');
    const wrapped = toFarmError(cause);
    expect(wrapped.code).toBe('internal');
    expect(wrapped.cause).toBe(cause);
    expect(toFarmError('text').message).toBe('text');
  });

  it('has an HTTP status for every code', () => {
    for (const code of ERROR_CODES)
      expect(ERROR_CODE_HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
  });
});
