import type { WorkerSocketPush } from '@farm/core';
import { createWakeups } from '../../src/http/long-poll';
import type {
  WorkerOperationHandlers,
  WorkerOperationInput,
} from '../../src/http/worker-operations';
import { createWorkWakeups } from '../../src/scheduler/work-wakeups';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('work wakeups', () => {
  function setUp(claimStatus: () => number) {
    const pushes: { workerId: string; message: WorkerSocketPush }[] = [];
    let notifications = 0;
    const wakeups = createWakeups();
    const workWakeups = createWorkWakeups({
      wakeups,
      pushToWorker: (workerId, message) => {
        pushes.push({ workerId, message });
        return true;
      },
      notifyReplicas: () => {
        notifications += 1;
      },
    });
    const handlers = workWakeups.trackClaims({
      claim: () => Promise.resolve({ status: claimStatus() }),
    } as unknown as WorkerOperationHandlers);
    const claim = (workerId: string, transport: 'ws' | 'http') =>
      handlers.claim({ kind: 'worker', workerId, name: workerId }, {
        params: {},
        body: undefined,
        transport,
      } as unknown as WorkerOperationInput<undefined>);
    return { pushes, notifications: () => notifications, workWakeups, claim, wakeups };
  }

  it('pushes work-available only to socket workers whose last claim found nothing', async () => {
    let status = 204;
    const farm = setUp(() => status);
    await farm.claim('idle-a', 'ws');
    await farm.claim('idle-b', 'ws');
    status = 200;
    await farm.claim('busy', 'ws');
    await farm.claim('http-worker', 'http');
    farm.workWakeups.wake();
    await tick();
    expect(farm.pushes.map((p) => p.workerId).sort()).toEqual(['idle-a', 'idle-b']);
    expect(farm.pushes.every((p) => p.message.type === 'work-available')).toBe(true);
  });

  it('makes one burst and one notification of many wakes in one tick', async () => {
    const farm = setUp(() => 204);
    await farm.claim('idle', 'ws');
    for (let i = 0; i < 100; i++) farm.workWakeups.wake();
    await tick();
    expect(farm.pushes).toHaveLength(1);
    expect(farm.notifications()).toBe(1);
  });

  it('does not push again to a woken worker until it is idle again, nor to a disconnected one', async () => {
    const farm = setUp(() => 204);
    await farm.claim('a', 'ws');
    await farm.claim('gone', 'ws');
    farm.workWakeups.forget('gone');
    farm.workWakeups.wake();
    await tick();
    farm.workWakeups.wake();
    await tick();
    expect(farm.pushes.map((p) => p.workerId)).toEqual(['a']);
  });

  it('wakes local long polls, and wakeLocal does not notify other replicas', async () => {
    const farm = setUp(() => 204);
    const waiting = farm.wakeups.wait('w', 10_000);
    farm.workWakeups.wakeLocal();
    await expect(waiting).resolves.toBe('woken');
    expect(farm.notifications()).toBe(0);
  });
});
