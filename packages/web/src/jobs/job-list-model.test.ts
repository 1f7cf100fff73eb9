import type { Job, JobStatus } from '../api/api-types';
import { applyJobLite, enabledBulkActions, filterJobs, sortJobs } from './job-list-model';

function job(id: string, status: JobStatus, extra: Partial<Job> = {}): Job {
  return {
    id,
    name: `job ${id}`,
    type: 'simple-blender-render',
    typeEtag: 'e',
    priority: 50,
    status,
    activity: '',
    settings: {},
    metadata: {},
    project: { id: 'p', name: 'default' },
    submitter: { id: 'u', name: 'ann' },
    requiredTags: [],
    maxWorkers: null,
    notBefore: null,
    failureThresholdPercent: 10,
    taskCounts: {
      queued: 0,
      active: 0,
      completed: 0,
      'soft-failed': 0,
      failed: 0,
      canceled: 0,
      paused: 0,
      total: 0,
    },
    progress: 0,
    created: '2026-01-01T00:00:00Z',
    updated: '2026-01-01T00:00:00Z',
    allowedActions: [],
    ...extra,
  };
}

describe('enabledBulkActions', () => {
  it('offers what every selected job allows (core table)', () => {
    expect([...enabledBulkActions(['queued'])].sort()).toEqual([
      'cancel',
      'delete',
      'pause',
      'set-priority',
    ]);
    expect([...enabledBulkActions(['queued', 'active'])].sort()).toEqual([
      'cancel',
      'pause',
      'set-priority',
    ]);
    expect([...enabledBulkActions(['completed', 'failed', 'canceled'])].sort()).toEqual([
      'archive',
      'delete',
      'requeue',
    ]);
    expect([...enabledBulkActions(['paused'])]).toContain('resume');
  });

  it('offers nothing when one job is in a passing state or nothing is selected', () => {
    expect(enabledBulkActions(['queued', 'cancel-requested']).size).toBe(0);
    expect(enabledBulkActions(['requeueing']).size).toBe(0);
    expect(enabledBulkActions([]).size).toBe(0);
  });

  it('lets an archived job only be deleted', () => {
    expect([...enabledBulkActions(['archived'])]).toEqual(['delete']);
    expect(enabledBulkActions(['archived', 'active']).size).toBe(0);
  });
});

describe('filterJobs', () => {
  const jobs = [
    job('1', 'active', { name: 'Shot 010 lighting', metadata: { shot: '010' } }),
    job('2', 'failed', { name: 'Shot 020 comp', submitter: { id: 'b', name: 'bob' } }),
    job('3', 'archived', { name: 'Old shot' }),
  ];
  it('hides archived jobs unless asked for', () => {
    expect(filterJobs(jobs, { statuses: new Set(), text: '' }).map((j) => j.id)).toEqual([
      '1',
      '2',
    ]);
    expect(
      filterJobs(jobs, { statuses: new Set(['archived']), text: '' }).map((j) => j.id),
    ).toEqual(['3']);
  });
  it('matches every word against name, submitter and metadata', () => {
    expect(filterJobs(jobs, { statuses: new Set(), text: 'shot bob' }).map((j) => j.id)).toEqual([
      '2',
    ]);
    expect(filterJobs(jobs, { statuses: new Set(), text: '010' }).map((j) => j.id)).toEqual(['1']);
    expect(
      filterJobs(jobs, { statuses: new Set(['active', 'failed']), text: 'comp' }).map((j) => j.id),
    ).toEqual(['2']);
  });
});

describe('sortJobs', () => {
  it('sorts names naturally and priorities numerically, in both directions', () => {
    const jobs = [
      job('a', 'queued', { name: 'shot 10', priority: 5 }),
      job('b', 'queued', { name: 'shot 9', priority: 70 }),
    ];
    expect(sortJobs(jobs, { column: 'name', descending: false }).map((j) => j.id)).toEqual([
      'b',
      'a',
    ]);
    expect(sortJobs(jobs, { column: 'priority', descending: true }).map((j) => j.id)).toEqual([
      'b',
      'a',
    ]);
    expect(sortJobs(jobs, { column: 'priority', descending: false }).map((j) => j.id)).toEqual([
      'a',
      'b',
    ]);
  });
});

describe('applyJobLite', () => {
  it('takes the live fields and keeps the rest', () => {
    const before = job('1', 'queued', { settings: { frames: '1-10' } });
    const after = applyJobLite(before, {
      id: '1',
      name: before.name,
      type: before.type,
      priority: 80,
      status: 'active',
      activity: 'rendering',
      project: before.project,
      taskCounts: { ...before.taskCounts, active: 1, total: 1 },
      progress: 0.2,
      updated: '2026-01-01T00:01:00Z',
      allowedActions: ['cancel'],
    });
    expect(after.status).toBe('active');
    expect(after.priority).toBe(80);
    expect(after.settings).toEqual({ frames: '1-10' });
  });
});
