import { describeScheduleTiming } from './schedule-model';

describe('describeScheduleTiming', () => {
  it('shows a cron expression as written and an interval in its largest whole unit', () => {
    expect(describeScheduleTiming({ cron: '0 2 * * 1-5', intervalMs: null })).toBe(
      'cron 0 2 * * 1-5',
    );
    expect(describeScheduleTiming({ cron: null, intervalMs: 86_400_000 })).toBe('every day');
    expect(describeScheduleTiming({ cron: null, intervalMs: 2 * 3_600_000 })).toBe('every 2 hours');
    expect(describeScheduleTiming({ cron: null, intervalMs: 90 * 60_000 })).toBe(
      'every 90 minutes',
    );
  });
});
