import { createLogBatcher } from '../../src/logs';

describe('createLogBatcher', () => {
  afterEach(() => jest.useRealTimers());

  it('sends a quiet process its lines after maxDelayMs, timed from the first unsent line', async () => {
    jest.useFakeTimers();
    const sent: string[] = [];
    const batcher = createLogBatcher({ maxDelayMs: 1000, send: (lines) => void sent.push(lines) });
    batcher.add('one');
    await jest.advanceTimersByTimeAsync(600);
    batcher.add('two'); // must not push the deadline back
    await jest.advanceTimersByTimeAsync(399);
    expect(sent).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(sent).toEqual(['one\ntwo\n']);
    batcher.add('three');
    await jest.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual(['one\ntwo\n', 'three\n']);
    await jest.advanceTimersByTimeAsync(5000);
    expect(sent).toHaveLength(2);
  });

  it('sends as soon as a batch would exceed maxBytes, never splitting a line', async () => {
    jest.useFakeTimers();
    const sent: string[] = [];
    const batcher = createLogBatcher({ maxBytes: 20, send: (lines) => void sent.push(lines) });
    batcher.add('123456789'); // 10 bytes with its newline
    batcher.add('abcdefghi'); // 20 bytes: full
    await Promise.resolve();
    expect(sent).toEqual(['123456789\nabcdefghi\n']);
    batcher.add('short');
    batcher.add('x'.repeat(30)); // would overflow: the earlier line goes first, the long one alone
    await jest.advanceTimersByTimeAsync(0);
    expect(sent).toEqual(['123456789\nabcdefghi\n', 'short\n', 'x'.repeat(30) + '\n']);
  });

  it('keeps batches in order even when a send is slow, and flush waits for all of them', async () => {
    const sent: string[] = [];
    let firstRelease: () => void = () => undefined;
    const batcher = createLogBatcher({
      maxBytes: 4,
      send: (lines) =>
        sent.length === 0 && !lines.startsWith('b')
          ? new Promise<void>((resolve) => {
              firstRelease = () => {
                sent.push(lines);
                resolve();
              };
            })
          : void sent.push(lines),
    });
    batcher.add('aaa');
    batcher.add('bbb');
    const flushed = batcher.flush();
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
    firstRelease();
    await flushed;
    expect(sent).toEqual(['aaa\n', 'bbb\n']);
  });

  it('flushes on close and refuses lines afterwards', async () => {
    const sent: string[] = [];
    const batcher = createLogBatcher({ send: (lines) => void sent.push(lines) });
    batcher.add('last words');
    await batcher.close();
    expect(sent).toEqual(['last words\n']);
    expect(() => batcher.add('too late')).toThrow('closed');
  });

  it('reports a failed automatic send and keeps going', async () => {
    const errors: unknown[] = [];
    const sent: string[] = [];
    const batcher = createLogBatcher({
      maxBytes: 2,
      send: (lines) => {
        if (lines === 'a\n') throw new Error('manager down');
        sent.push(lines);
      },
      onError: (e) => errors.push(e),
    });
    batcher.add('a');
    batcher.add('b');
    await batcher.flush();
    expect(errors).toEqual([new Error('manager down')]);
    expect(sent).toEqual(['b\n']);
  });

  it('flushes on a real timer', async () => {
    const sent: string[] = [];
    const batcher = createLogBatcher({ maxDelayMs: 100, send: (lines) => void sent.push(lines) });
    const started = Date.now();
    batcher.add('real time');
    while (sent.length === 0 && Date.now() - started < 2000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(sent).toEqual(['real time\n']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
