import { OPERATIONS, type OperationId } from '@farm/core';
import { createApp } from '../../src/http/create-app';
import { findUnimplementedOperations, toExpressPath } from '../../src/http/operation-router';
import { createWakeups } from '../../src/http/long-poll';
import { createMemoryLogger, createWorkerHandlers } from './test-app';

// Every operation of the API document is routed: to its handler, or to a 501 "not implemented
// yet". This list is the second kind; it must shrink to nothing. When the services register an
// operation, remove it here (and pass the services' operations to createApp below); the test
// fails on an entry that is implemented and on an operation missing from both.
const NOT_IMPLEMENTED_YET: OperationId[] = [
  'applyBulkJobAction',
  'applyBulkTaskAction',
  'applyJobAction',
  'applyTaskAction',
  'deleteWorker',
  'deleteWorkerSleepSchedule',
  'getCurrentUser',
  'getJob',
  'getJobBlocklist',
  'getJobLastRendered',
  'getJobTasksCompact',
  'getJobType',
  'getJobsSummary',
  'getLastRendered',
  'getMetrics',
  'getTask',
  'getTaskLog',
  'getVariables',
  'getWorker',
  'getWorkerSleepSchedule',
  'listJobTasks',
  'listJobTypes',
  'listJobs',
  'listWorkers',
  'registerWorker',
  'removeJobBlocklistEntries',
  'requestWorkerStatus',
  'setWorkerSleepSchedule',
  'setWorkerTags',
  'submitJob',
  'uploadTaskOutput',
];

describe('operation coverage', () => {
  it('routes every operation of the document to a handler or to the not-implemented list', () => {
    const app = createApp({
      logger: createMemoryLogger().logger,
      authenticateToken: () => Promise.resolve(null),
      readiness: () => Promise.resolve({ ready: true, checks: {} }),
      version: { name: 'farm', version: '0.0.0' },
      workerHandlers: createWorkerHandlers(createWakeups()).handlers,
    });
    const missing = app.locals.unimplementedOperations as OperationId[];
    expect(missing).toEqual([...NOT_IMPLEMENTED_YET].sort());
  });

  it('lists as missing exactly what is not registered', () => {
    const all = Object.keys(OPERATIONS) as OperationId[];
    expect(findUnimplementedOperations(all)).toEqual([]);
    expect(findUnimplementedOperations(all.filter((id) => id !== 'getJob'))).toEqual(['getJob']);
  });

  it('turns path templates into Express paths', () => {
    expect(toExpressPath('/api/v1/variables/{audience}/{platform}')).toBe(
      '/api/v1/variables/:audience/:platform',
    );
    expect(toExpressPath('/healthz')).toBe('/healthz');
  });
});
