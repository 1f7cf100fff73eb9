import { OPERATIONS, type OperationId } from '@farm/core';
import { createApp } from '../../src/http/create-app';
import { findUnimplementedOperations, toExpressPath } from '../../src/http/operation-router';
import type { OperationDefinition } from '../../src/http/define-operation';
import { createWakeups } from '../../src/http/long-poll';
import { registerLastRenderedRoutes } from '../../src/routes/last-rendered';
import type { ServiceContext } from '../../src/services/service-context';
import { createMemoryLogger, createWorkerHandlers } from './test-app';
import { registerAuthRoutes } from '../../src/routes/auth';
import { registerUserRoutes } from '../../src/routes/users';
import { registerWorkerCredentialRoutes } from '../../src/routes/worker-credentials';
import { createLoginThrottle, type AccessTokens } from '../../src/services/auth';

// Every operation of the API document is routed: to its handler, or to a 501 "not implemented
// yet". This list is the second kind; it must shrink to nothing. When the services register an
// operation, remove it here (and pass the services' operations to createApp below); the test
// fails on an entry that is implemented and on an operation missing from both.
const NOT_IMPLEMENTED_YET: OperationId[] = [
  'applyBulkJobAction',
  'applyBulkTaskAction',
  'applyJobAction',
  'applyTaskAction',
  // Schedules (issue 10) are served by the manager's services, not the bare app.
  'createSchedule',
  'deleteSchedule',
  'getSchedule',
  'listScheduleRuns',
  'listSchedules',
  'updateSchedule',
  'createCheckout',
  'deleteCheckout',
  'findMissingFiles',
  'getCheckout',
  'uploadFile',
  // Notifications (issue 10) are served by the manager's services, not the bare app.
  'createNotificationSubscription',
  'deleteNotificationSubscription',
  'getNotificationSubscription',
  'listNotificationDeliveries',
  'listNotificationSubscriptions',
  'sendTestNotification',
  'updateNotificationSubscription',
  'deleteWorker',
  'deleteWorkerSleepSchedule',
  'getCurrentUser',
  'getJob',
  'getJobBlocklist',
  'getJobTasksCompact',
  'getJobType',
  'getJobsSummary',
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
    const operations: OperationDefinition[] = [];
    // Handlers only use the context when called; routing needs none.
    registerLastRenderedRoutes(operations, {} as ServiceContext);
    // Issue 7's operations (people, tokens, projects, audit, worker credentials).
    registerAuthRoutes(operations, {} as ServiceContext, {
      throttle: createLoginThrottle(),
      accessTokens: {} as AccessTokens,
    });
    registerUserRoutes(operations, {} as ServiceContext);
    registerWorkerCredentialRoutes(operations, {} as ServiceContext, {
      forgetWorkerToken: () => undefined,
      disconnectWorker: () => undefined,
    });
    const app = createApp({
      operations,
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
