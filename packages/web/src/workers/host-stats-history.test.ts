import type { HostStats } from '../api/api-types';
import { appendSample, sparklinePoints } from './host-stats-history';
import { sleepScheduleProblems } from './sleep-schedule-problems';

const sample = (at: string, cpuPercent: number): HostStats => ({
  cpuPercent,
  memoryUsedBytes: 1,
  memoryTotalBytes: 2,
  load1: 0,
  diskFreeBytes: 0,
  at,
});

describe('host stats history', () => {
  it('adds each heartbeat once and keeps the newest', () => {
    let history: HostStats[] = [];
    history = appendSample(history, sample('t1', 10), 2);
    history = appendSample(history, sample('t1', 10), 2);
    history = appendSample(history, sample('t2', 20), 2);
    history = appendSample(history, sample('t3', 30), 2);
    history = appendSample(history, null, 2);
    expect(history.map((s) => s.at)).toEqual(['t2', 't3']);
  });

  it('draws values from the bottom (0) to the top (1), one sample as a flat line', () => {
    expect(sparklinePoints([0, 1, 0.5], 100, 20)).toBe('0.0,20.0 50.0,0.0 100.0,10.0');
    expect(sparklinePoints([0.25], 100, 20)).toBe('0.0,15.0 100.0,15.0');
    expect(sparklinePoints([], 100, 20)).toBe('');
  });
});

describe('sleepScheduleProblems', () => {
  const good = {
    isActive: true,
    daysOfWeek: [],
    startTime: '22:00',
    endTime: '07:00',
    timeZone: 'UTC',
  };
  it('accepts a window over midnight', () => {
    expect(sleepScheduleProblems(good)).toEqual([]);
  });
  it('names every problem', () => {
    expect(
      sleepScheduleProblems({ ...good, startTime: '25:00', endTime: '25:00', timeZone: ' ' }),
    ).toHaveLength(4);
  });
});
