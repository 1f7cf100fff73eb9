import {
  OPERATIONS,
  SCHEMA_BUNDLE,
  validateOperationInput,
  validateSchema,
  type OperationId,
} from '.';

const JOB_ID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';

describe('validateOperationInput', () => {
  it('accepts a good submission and fills in the defaults', () => {
    const result = validateOperationInput('submitJob', {
      body: {
        name: 'hello',
        type: 'echo-sleep-test',
        settings: { message: 'hi', sleep_repeats: 3 },
        metadata: { shot: '010' },
        requiredTags: ['gpu'],
        notBefore: '2026-11-22T10:00:00Z',
      },
    });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.value.body.priority).toBe(50);
      expect(result.value.body.initialStatus).toBe('queued');
    }
  });

  it('lists every problem of a bad submission at once, with readable paths', () => {
    const result = validateOperationInput('submitJob', {
      body: {
        type: 'echo-sleep-test',
        priority: 'high',
        metadata: { shot: 10 },
        notBefore: 'tomorrow',
        maxWorkers: 0,
        foo: 1,
      },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual(
      expect.arrayContaining([
        { path: 'body.name', message: 'is required' },
        { path: 'body.foo', message: 'unknown field "foo"' },
        { path: 'body.priority', message: 'must be an integer' },
        { path: 'body.metadata.shot', message: 'must be a string' },
        { path: 'body.notBefore', message: 'must be a valid date-time' },
        { path: 'body.maxWorkers', message: 'must be >= 1' },
      ]),
    );
    expect(result.issues).toHaveLength(6);
  });

  it('refuses a missing body where one is required', () => {
    expect(validateOperationInput('applyJobAction', { params: { jobId: JOB_ID } })).toEqual({
      ok: false,
      issues: [{ path: 'body', message: 'is required' }],
    });
  });

  it('coerces query strings and wraps single values of array parameters', () => {
    const query = { limit: '5', status: 'queued', meta: 'shot=010', order: 'asc' };
    const result = validateOperationInput('listJobs', { query });
    expect(result).toEqual({
      ok: true,
      value: {
        params: {},
        query: { limit: 5, status: ['queued'], meta: ['shot=010'], order: 'asc', sort: 'created' },
        body: undefined,
      },
    });
    // The caller's object (Express's req.query) is left alone.
    expect(query.limit).toBe('5');
  });

  it('fills in the page size and the default sort of a list', () => {
    const result = validateOperationInput('listJobTasks', { params: { jobId: JOB_ID }, query: {} });
    expect(result.ok && result.value.query).toEqual({ limit: 100, sort: 'index', order: 'asc' });
  });

  it('reports bad query and path parameters by name', () => {
    const result = validateOperationInput('listJobTasks', {
      params: { jobId: 'not-a-uuid' },
      query: { limit: '5000', status: ['queued', 'sleeping'], colour: 'red' },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual(
      expect.arrayContaining([
        { path: 'params.jobId', message: 'must be a valid uuid' },
        { path: 'query.limit', message: 'must be <= 1000' },
        {
          path: 'query.status[1]',
          message:
            'must be one of: queued, active, completed, soft-failed, failed, canceled, paused',
        },
        { path: 'query.colour', message: 'unknown parameter "colour"' },
      ]),
    );
    expect(result.issues).toHaveLength(4);
  });

  it('refuses parameters and bodies an operation does not take', () => {
    const result = validateOperationInput('getVersion', { query: { x: '1' }, body: { a: 1 } });
    expect(result).toEqual({
      ok: false,
      issues: [
        { path: 'query.x', message: 'unknown parameter "x"' },
        { path: 'body', message: 'this operation takes no body' },
      ],
    });
  });

  it('limits the size of a worker log chunk', () => {
    const result = validateOperationInput('updateTask', {
      params: { taskId: JOB_ID },
      body: { status: 'done', log: 'x'.repeat(1024 * 1024 + 1), progress: 1.5 },
    });
    expect(!result.ok && result.issues).toEqual([
      { path: 'body.status', message: 'must be one of: active, completed, failed' },
      { path: 'body.progress', message: 'must be <= 1' },
      { path: 'body.log', message: 'must be at most 1048576 characters' },
    ]);
  });
});

describe('validateSchema', () => {
  it('compiles every schema and every operation of the document', () => {
    for (const name of Object.keys(SCHEMA_BUNDLE.$defs)) {
      expect(() => validateSchema(name as 'Job', {})).not.toThrow();
    }
    for (const id of Object.keys(OPERATIONS) as OperationId[]) {
      expect(() => validateOperationInput(id, { params: {}, query: {}, body: {} })).not.toThrow();
    }
  });

  it('checks websocket messages by their type', () => {
    expect(
      validateSchema('WorkerSocketPush', { type: 'stop-task', taskId: JOB_ID, reason: 'canceled' })
        .ok,
    ).toBe(true);
    const bad = validateSchema('WorkerSocketPush', { type: 'stop-task' });
    expect(bad.ok).toBe(false);
    expect(validateSchema('Subscription', { type: 'subscribe', topic: 'job', id: JOB_ID }).ok).toBe(
      true,
    );
    expect(validateSchema('Subscription', { type: 'subscribe', topic: 'everything' })).toEqual({
      ok: false,
      issues: [
        { path: 'topic', message: 'must be one of: jobs, job, task-log, workers, last-rendered' },
      ],
    });
  });

  it('accepts nullable fields as null and explains a wrong value without union noise', () => {
    const worker = {
      id: JOB_ID,
      name: 'w1',
      status: 'awake',
      statusRequest: null,
      platform: 'linux',
      version: '1.0.0',
      lastSeen: null,
      currentTask: null,
      tags: [],
    };
    expect(validateSchema('WorkerSummary', worker).ok).toBe(true);
    const result = validateSchema('WorkerSummary', {
      ...worker,
      lastSeen: 5,
      statusRequest: { status: 'awake' },
    });
    expect(!result.ok && result.issues).toEqual([
      { path: 'statusRequest.lazy', message: 'is required' },
      { path: 'lastSeen', message: 'must be a string or null' },
    ]);
  });

  it('throws on a schema name the document does not have', () => {
    expect(() => validateSchema('Nope' as 'Job', {})).toThrow(/no schema named "Nope"/);
  });
});
