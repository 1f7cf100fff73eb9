import { createColors, shouldUseColor, stripAnsi } from '../src/output/colors';
import { estimateRemainingMs, formatProgress } from '../src/output/format-progress';
import { formatTable } from '../src/output/format-table';
import { formatDuration } from '../src/output/format-time';
import { formatError } from '../src/report-error';
import { FarmError } from '@farm/core';
import { CliExit, EXIT_CODES, exitCodeForError } from '../src/exit-codes';

describe('colour', () => {
  it('is used on a terminal only, and never with NO_COLOR', () => {
    expect(shouldUseColor(true, {})).toBe(true);
    expect(shouldUseColor(false, {})).toBe(false);
    expect(shouldUseColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(shouldUseColor(true, { TERM: 'dumb' })).toBe(false);
  });

  it('colours statuses by meaning and is plain text when off', () => {
    expect(createColors(true).status('failed')).toBe('\u001b[31mfailed\u001b[39m');
    expect(createColors(false).status('failed')).toBe('failed');
  });
});

describe('tables', () => {
  it('align columns by visible width, ignoring colour codes', () => {
    const colors = createColors(true);
    const table = formatTable(
      ['ID', 'STATUS', 'NAME'],
      [
        ['1', colors.status('completed'), 'a'],
        ['22', 'queued', 'b'],
      ],
    );
    expect(stripAnsi(table)).toBe('ID  STATUS     NAME\n1   completed  a\n22  queued     b\n');
  });
});

describe('progress', () => {
  const colors = createColors(false);

  it('shows a bar with tasks done of total, failed and the ETA', () => {
    expect(
      formatProgress(
        { completed: 5, failed: 1, total: 10 },
        { status: 'active', etaMs: 130_000, width: 10, colors },
      ),
    ).toBe('[#####-----] 5/10 tasks done, 1 failed, ETA 2m 10s, active');
    expect(
      formatProgress({ completed: 0, failed: 0, total: 0 }, { status: 'queued', width: 4, colors }),
    ).toBe('[----] 0/0 tasks done, 0 failed, ETA --, queued');
  });

  it('estimates the time left from the pace seen while watching', () => {
    expect(
      estimateRemainingMs({ completed: 2, at: 0 }, { completed: 4, total: 10, at: 60_000 }),
    ).toBe(180_000);
    expect(
      estimateRemainingMs({ completed: 2, at: 0 }, { completed: 2, total: 10, at: 60_000 }),
    ).toBeUndefined();
  });

  it('prints durations as people read them', () => {
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(185_000)).toBe('3m 05s');
    expect(formatDuration(7_800_000)).toBe('2h 10m');
  });
});

describe('errors', () => {
  const issues = [
    { path: 'frames', message: 'is required' },
    { path: 'fps', message: 'must be a number, got "x"' },
  ];

  it('are one line, plus one per listed problem', () => {
    const error = new FarmError('validation_failed', 'the job is invalid', { details: { issues } });
    expect(formatError(error, false)).toBe(
      'farm: the job is invalid\n  - frames: is required\n  - fps: must be a number, got "x"\n',
    );
  });

  it('show the code and details with --verbose', () => {
    const error = new FarmError('invalid_transition', 'job 1 is completed and cannot be paused', {
      details: { status: 'completed', action: 'pause', allowedActions: ['requeue', 'delete'] },
    });
    expect(formatError(error, false)).toBe(
      'farm: job 1 is completed and cannot be paused (allowed now: requeue, delete)\n',
    );
    const verbose = formatError(error, true);
    expect(verbose).toContain('  code: invalid_transition\n');
    expect(verbose).toContain('"allowedActions":["requeue","delete"]');
  });

  it('map to the documented exit codes', () => {
    expect(exitCodeForError(new FarmError('unavailable', 'x'))).toBe(EXIT_CODES.unreachable);
    expect(exitCodeForError(new FarmError('unauthenticated', 'x'))).toBe(6);
    expect(exitCodeForError(new FarmError('forbidden', 'x'))).toBe(6);
    expect(exitCodeForError(new FarmError('validation_failed', 'x'))).toBe(2);
    expect(exitCodeForError(new FarmError('not_found', 'x'))).toBe(1);
    expect(exitCodeForError(new CliExit(4, 'x'))).toBe(4);
    expect(exitCodeForError(new Error('boom'))).toBe(1);
  });
});
