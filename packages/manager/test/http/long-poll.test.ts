import { createWakeups } from '../../src/http/long-poll';

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

describe('createWakeups', () => {
  it('wakes one worker without waking the others', async () => {
    const wakeups = createWakeups();
    const a = wakeups.wait('a', 10_000);
    const b = wakeups.wait('b', 50);
    expect(wakeups.wake('a')).toBe(1);
    expect(await a).toBe('woken');
    expect(await b).toBe('timeout');
    expect(wakeups.size).toBe(0);
  });

  it('ends a wait when its signal aborts (the client went away)', async () => {
    const wakeups = createWakeups();
    const controller = new AbortController();
    const waiting = wakeups.wait('a', 10_000, controller.signal);
    controller.abort();
    expect(await waiting).toBe('aborted');
    expect(await wakeups.wait('a', 10_000, controller.signal)).toBe('aborted');
    expect(wakeups.size).toBe(0);
  });

  it('holds 1,000 waiters and leaves no timer behind after wakeAll and releaseAll', async () => {
    const baseline = activeTimers();
    const wakeups = createWakeups();
    const first = Array.from({ length: 1000 }, (_, i) => wakeups.wait(`w${i % 250}`, 60_000));
    expect(wakeups.size).toBe(1000);
    expect(activeTimers()).toBeGreaterThanOrEqual(baseline + 1000);
    expect(wakeups.wakeAll()).toBe(1000);
    expect(new Set(await Promise.all(first))).toEqual(new Set(['woken']));
    expect(activeTimers()).toBe(baseline);

    const second = Array.from({ length: 1000 }, (_, i) => wakeups.wait(`w${i}`, 60_000));
    wakeups.releaseAll();
    expect(new Set(await Promise.all(second))).toEqual(new Set(['released']));
    expect(activeTimers()).toBe(baseline);
    expect(wakeups.size).toBe(0);
    // After shutdown began, a new long poll returns at once instead of holding the server open.
    expect(await wakeups.wait('late', 60_000)).toBe('released');
    expect(activeTimers()).toBe(baseline);
  });
});
