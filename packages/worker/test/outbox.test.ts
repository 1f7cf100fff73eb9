import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { openOutbox, type OutboxEntry, type OutboxSendResult } from '../src/outbox';
import { makeTempDir, waitFor } from './fixtures/processes';

const fast = { initialMs: 10, maxMs: 20, jitter: 0 };

describe('outbox', () => {
  it('keeps updates across a restart and replays them in order', async () => {
    const dir = makeTempDir('outbox');
    const file = path.join(dir, 'outbox.jsonl');
    // First run: the manager is unreachable the whole time.
    const first = await openOutbox({
      file,
      send: () => Promise.reject(new Error('manager down')),
      retryBackoff: fast,
      syncIntervalMs: 5,
    });
    first.enqueue('t1', { status: 'active' });
    for (let i = 0; i < 5; i++) first.enqueue('t1', { log: `line ${i}\n` });
    first.enqueue('t1', { status: 'completed' });
    first.enqueue('t2', { status: 'active' });
    expect(first.size).toBe(8);
    await first.close();

    // Second run: the manager is back.
    const sent: OutboxEntry[] = [];
    const second = await openOutbox({
      file,
      send: (entry) => {
        sent.push(entry);
        return Promise.resolve('sent');
      },
      syncIntervalMs: 5,
    });
    expect(second.size).toBe(8);
    second.resume();
    expect(await second.drain(2000)).toBe(true);
    // The five log-only updates travel as one; status changes never merge.
    expect(sent.map((e) => [e.taskId, e.update])).toEqual([
      ['t1', { status: 'active' }],
      ['t1', { log: 'line 0\nline 1\nline 2\nline 3\nline 4\n' }],
      ['t1', { status: 'completed' }],
      ['t2', { status: 'active' }],
    ]);
    await second.close();
    // Everything was delivered, so the file is empty and a third run has nothing to send.
    expect(statSync(file).size).toBe(0);
    const third = await openOutbox({ file, send: () => Promise.resolve('sent') });
    expect(third.size).toBe(0);
    await third.close();
  });

  it('does not send an update twice after a restart once it was acknowledged', async () => {
    const dir = makeTempDir('outbox');
    const file = path.join(dir, 'outbox.jsonl');
    let up = true;
    const sent: string[] = [];
    const box = await openOutbox({
      file,
      send: (entry) => {
        if (!up) return Promise.reject(new Error('down'));
        sent.push(entry.update.activity ?? '');
        return Promise.resolve('sent');
      },
      retryBackoff: fast,
      syncIntervalMs: 5,
    });
    box.enqueue('t', { status: 'active', activity: 'a' });
    await box.drain(1000);
    up = false;
    box.enqueue('t', { status: 'completed', activity: 'b' });
    await new Promise((r) => setTimeout(r, 30));
    await box.close();
    expect(readFileSync(file, 'utf8')).toContain('"b"');

    up = true;
    const again = await openOutbox({
      file,
      send: (entry) => {
        sent.push(entry.update.activity ?? '');
        return Promise.resolve('sent');
      },
    });
    again.resume();
    await again.drain(1000);
    await again.close();
    expect(sent).toEqual(['a', 'b']);
  });

  it('drops the rest of a task the manager answers 409 for, and keeps the other tasks', async () => {
    const dir = makeTempDir('outbox');
    const sent: string[] = [];
    const abandoned: string[] = [];
    const box = await openOutbox({
      file: path.join(dir, 'o.jsonl'),
      send: (entry): Promise<OutboxSendResult> => {
        if (entry.taskId === 'gone') return Promise.resolve('not-yours');
        sent.push(`${entry.taskId}:${entry.update.status ?? 'log'}`);
        return Promise.resolve('sent');
      },
      onAbandon: (taskId) => abandoned.push(taskId),
    });
    // Queue all first (no connection yet would be realistic; here the order is what matters).
    box.enqueue('gone', { status: 'active' });
    box.enqueue('gone', { log: 'x\n' });
    box.enqueue('other', { status: 'active' });
    box.enqueue('gone', { status: 'completed' });
    box.enqueue('other', { status: 'completed' });
    await box.drain(1000);
    expect(abandoned).toEqual(['gone']);
    expect(sent).toEqual(['other:active', 'other:completed']);
    expect(box.enqueue('gone', { log: 'late\n' })).toBe(false);
    box.adopt('gone');
    expect(box.enqueue('gone', { status: 'active' })).toBe(true);
    await box.close();
  });

  it('retries with back-off while the manager is unreachable and sends in order when it is back', async () => {
    const dir = makeTempDir('outbox');
    let up = false;
    let attempts = 0;
    const sent: number[] = [];
    const box = await openOutbox({
      file: path.join(dir, 'o.jsonl'),
      send: (entry) => {
        attempts++;
        if (!up) return Promise.reject(new Error('down'));
        sent.push(entry.update.progress ?? -1);
        return Promise.resolve('sent');
      },
      retryBackoff: { initialMs: 20, maxMs: 40, jitter: 0 },
    });
    for (let i = 0; i < 10; i++)
      box.enqueue('t', { status: i === 0 ? 'active' : undefined, progress: i / 10 });
    await new Promise((r) => setTimeout(r, 300));
    // Back-off, not a busy loop: at most one attempt per 20-40 ms.
    expect(attempts).toBeLessThan(20);
    expect(box.size).toBe(10);
    up = true;
    await waitFor(() => box.size === 0, 2000);
    // Progress-only updates merge into one carrying the latest value.
    expect(sent).toEqual([0, 0.9]);
    await box.close();
  });
});
